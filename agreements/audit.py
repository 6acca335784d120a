"""The audit trail of an agreement: append-only events, chained by SHA-256.

Every event stores the hash of the event before it (of the same agreement) and its own
hash over its fields plus that previous hash. Editing a row changes its hash, deleting
one leaves a gap in the sequence or a broken link, reordering changes the hashed
sequence numbers: ``audit_verify`` finds each.

A chain cannot tell on its own that events were cut off at its end, so every event also
moves the trail's *head* on the agreement row (``audit_head_sequence``,
``audit_head_hash``): a trail that no longer reaches its head was shortened. The
completion mail carries the head as well, outside the database.

``audit_verify`` also holds the trail against what it records: the live content of a
submitted or signed agreement against its frozen snapshot and hash, the submit event
against that hash, every ``Signature`` row against its ``signed`` event (signer, typed
name, time, address, hash), and a signed agreement against its completion event. That
catches what PostgreSQL's triggers cannot stop (the tables' owner may switch them off)
and what SQLite has no triggers for.

``audit_verify`` walks the whole trail (``manage.py verify_audit``, from cron); the
agreement page runs ``audit_verify_head``, which checks the head, the events it shows
and the state, in a time that does not grow with the trail.

What neither can stop is someone with database access who rewrites a row, recomputes
every hash after it and moves the head: the head in the completion mail, and PDFs
handed out, are the copies outside the database to compare with.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .enums import SIGNED_STATUSES, AuditAction, Party
from .identity.client import client_ip
from .models import Agreement, AuditEvent, Signature
from .snapshot import canonical_json, content_changes, sha256_hex, snapshot_sha256

# The first event of an agreement links to nothing.
GENESIS_HASH = ""
USER_AGENT_MAX_LENGTH = 500  # AuditEvent.user_agent and Signature.user_agent


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from: the client's IP address and browser, as recorded.

    ``from_request`` takes the address from ``client_ip``: behind the reverse proxy the
    one the proxy appended to X-Forwarded-For (``DJANGO_TRUSTED_PROXIES``), never an
    entry the client wrote, and the same address the log-in throttle counts.
    """

    ip: str | None = None
    user_agent: str = ""

    def __post_init__(self):
        # Normalised once here, so the audit row and the signature store the same values.
        object.__setattr__(self, "ip", _valid_ip(self.ip))
        object.__setattr__(self, "user_agent", _clean_user_agent(self.user_agent))

    @classmethod
    def from_request(cls, request) -> RequestMeta:
        return cls(
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``audit_verify``: intact, or where and how the chain is broken."""

    intact: bool
    message: str
    broken_sequence: int | None = None  # the first event that fails (or is missing)
    event_count: int = 0
    head_hash: str = ""  # the hash of the last event; what an outside copy should match


def audit_record(*, agreement, action, actor, meta: RequestMeta, details=None) -> AuditEvent:
    """Append one event to the agreement's trail and return it.

    Must run inside the caller's ``transaction.atomic()``, so the event commits or rolls
    back with the change it records. The agreement row is locked here (a no-op when the
    caller holds the lock already, as the workflow does): two events of one agreement are
    then never given the same sequence number or the same predecessor.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("audit_record() must run inside transaction.atomic().")
    list(Agreement.objects.select_for_update().filter(pk=agreement.pk).order_by().values_list("pk"))

    last = (
        AuditEvent.objects.filter(agreement_id=agreement.pk)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = AuditEvent(
        agreement_id=agreement.pk,
        sequence=sequence,
        action=AuditAction(action),
        actor=actor,
        actor_name=_actor_name(actor),
        created_at=timezone.now(),
        ip_address=meta.ip,
        user_agent=meta.user_agent,
        # Through JSON and back: what is stored is exactly what is hashed.
        details=json.loads(canonical_json(details or {})),
        previous_hash=previous_hash,
    )
    # Validate (and normalise, e.g. an IPv6 address) before hashing, so the hash covers
    # the values as they are stored. Not the two foreign keys: the agreement is the row
    # locked above, the actor the user at hand, and the database checks both anyway.
    event.full_clean(
        exclude=["hash", "agreement", "actor"], validate_unique=False, validate_constraints=False
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    # The head moves in the same transaction: a trail later cut short no longer reaches it.
    Agreement.objects.filter(pk=agreement.pk).update(
        audit_head_sequence=sequence, audit_head_hash=event.hash
    )
    agreement.audit_head_sequence, agreement.audit_head_hash = sequence, event.hash
    return event


def event_hash(event: AuditEvent) -> str:
    """The SHA-256 over the event's fields and the hash of its predecessor."""
    return sha256_hex(
        canonical_json(
            {
                "agreement": event.agreement_id,
                "sequence": event.sequence,
                "action": str(event.action),
                "actor": event.actor_name,
                "created_at": _utc_iso(event.created_at),
                "ip_address": event.ip_address,
                "user_agent": event.user_agent,
                "details": event.details,
                "previous_hash": event.previous_hash,
            }
        )
    )


def audit_events(agreement) -> list[AuditEvent]:
    """The agreement's whole trail, oldest first, as ``audit_verify`` reads it."""
    return list(AuditEvent.objects.filter(agreement_id=agreement.pk).order_by("sequence", "pk"))


def audit_verify(agreement, events: list[AuditEvent] | None = None) -> ChainReport:
    """Check the agreement's whole trail link by link, its head, and the agreement's state.

    ``events``: the trail as ``audit_events`` returns it, when the caller has it already.
    Reads the framework document to recompute the content hash.
    """
    if events is None:
        events = audit_events(agreement)
    previous_hash = GENESIS_HASH
    for expected, event in enumerate(events, start=1):
        if event.sequence != expected:
            return _broken(
                expected,
                gettext("Ereignis Nr. %(n)d fehlt (gelöscht oder umgestellt).") % {"n": expected},
                events,
            )
        if event.previous_hash != previous_hash:
            return _broken(
                expected,
                gettext(
                    "Ereignis Nr. %(n)d verweist nicht auf das Ereignis davor "
                    "(eines wurde gelöscht, umgestellt oder verändert)."
                )
                % {"n": expected},
                events,
            )
        if event_hash(event) != event.hash:
            return _broken(expected, _changed_message(expected), events)
        previous_hash = event.hash

    agreement = Agreement.objects.get(pk=agreement.pk)
    last = events[-1] if events else None
    problem = _head_problem(agreement, last) or _state_problem(agreement, read_file=True)
    if problem:
        return _broken(problem[0], problem[1], events)
    return ChainReport(
        intact=True,
        message=_intact_message(len(events)),
        event_count=len(events),
        head_hash=previous_hash,
    )


def audit_verify_head(agreement, shown: list[AuditEvent] = ()) -> ChainReport:
    """The agreement page's check, in a time that does not grow with the trail.

    The trail must still end at the head kept on the agreement row, the head event and
    the events the page ``shown`` must hash as recorded, and the agreement's state must
    match its trail (without reading the framework document). What lies between, e.g.
    thousands of downloads, is ``audit_verify``'s (``manage.py verify_audit``).
    """
    agreement = Agreement.objects.get(pk=agreement.pk)
    head = agreement.audit_head_sequence
    # The head event and at most one after it: there should be none after it.
    tail = list(
        AuditEvent.objects.filter(agreement_id=agreement.pk, sequence__gte=head)
        .order_by("sequence")
        .only(*HASHED_FIELDS)[:2]
    )
    last = next((event for event in tail if event.sequence == head), None)
    if head and last is None:
        # Cut short: no event at the head. Where the trail now ends is the evidence.
        end = AuditEvent.objects.filter(agreement_id=agreement.pk, sequence__lt=head).aggregate(
            end=Max("sequence")
        )["end"]
        last = AuditEvent(sequence=end or 0)
    problem = (
        _head_problem(agreement, last)
        or _tail_problem([event for event in tail if event.sequence > head])
        or _shown_problem([*shown, *([last] if last is not None and last.pk else [])])
        or _state_problem(agreement, read_file=False)
    )
    if problem:
        return ChainReport(
            intact=False,
            message=problem[1],
            broken_sequence=problem[0],
            event_count=head,
            head_hash=agreement.audit_head_hash,
        )
    return ChainReport(
        intact=True,
        message=_intact_message(head),
        event_count=head,
        head_hash=agreement.audit_head_hash,
    )


# What ``event_hash`` reads: the page loads no more of the head event than that.
HASHED_FIELDS = (
    "agreement",
    "sequence",
    "action",
    "actor_name",
    "created_at",
    "ip_address",
    "user_agent",
    "details",
    "previous_hash",
    "hash",
)


def _intact_message(count: int) -> str:
    return ngettext(
        "Das Audit-Protokoll ist intakt (%(count)d Ereignis).",
        "Das Audit-Protokoll ist intakt (%(count)d Ereignisse).",
        count,
    ) % {"count": count}


def _changed_message(sequence: int) -> str:
    return gettext("Ereignis Nr. %(n)d wurde nach dem Eintrag verändert.") % {"n": sequence}


def _inserted_message(sequence: int) -> str:
    return gettext(
        "Ereignis Nr. %(n)d steht nicht im verzeichneten Stand des Protokolls "
        "(nachträglich eingefügt)."
    ) % {"n": sequence}


def _head_problem(agreement, last: AuditEvent | None) -> tuple[int, str] | None:
    """Whether the trail ends where the agreement row says it ended (its head)."""
    head = agreement.audit_head_sequence
    count = last.sequence if last is not None else 0
    if count < head:
        return (
            count + 1,
            gettext(
                "Das Protokoll endet mit Ereignis Nr. %(last)d, verzeichnet sind %(head)d "
                "Ereignisse: die letzten wurden gelöscht."
            )
            % {"last": count, "head": head},
        )
    if count > head:
        return head + 1, _inserted_message(head + 1)
    if last is not None and last.hash != agreement.audit_head_hash:
        return (
            count,
            gettext("Das letzte Ereignis, Nr. %(n)d, ist nicht das verzeichnete.") % {"n": count},
        )
    return None


def _tail_problem(after_head: list[AuditEvent]) -> tuple[int, str] | None:
    if after_head:
        return after_head[0].sequence, _inserted_message(after_head[0].sequence)
    return None


def _shown_problem(events) -> tuple[int, str] | None:
    """The first of ``events`` whose fields no longer give its hash."""
    for event in sorted(events, key=lambda e: e.sequence):
        if event_hash(event) != event.hash:
            return event.sequence, _changed_message(event.sequence)
    return None


def _state_problem(agreement, *, read_file: bool) -> tuple[int, str] | None:
    """What the agreement's state says must be in the trail but is not (None when all is).

    The broken sequence it returns is the event that disagrees, or the head + 1 for what
    is missing or changed outside the trail.
    """
    after = agreement.audit_head_sequence + 1
    if not agreement.content_sha256:
        return _signatures_problem(agreement, submit=None, after=after)
    if (
        agreement.content_snapshot is None
        or snapshot_sha256(agreement.content_snapshot) != agreement.content_sha256
    ):
        return after, gettext("Der eingefrorene Inhalt passt nicht zu seiner Prüfsumme.")
    changed = content_changes(agreement, read_file=read_file)
    if changed:
        return after, gettext("Der Inhalt wurde nach dem Einreichen verändert (%(fields)s).") % {
            "fields": ", ".join(changed)
        }

    trail = AuditEvent.objects.filter(agreement_id=agreement.pk)
    submit = trail.filter(action=AuditAction.SUBMITTED).order_by("-sequence").first()
    if submit is None or submit.details.get("content_sha256") != agreement.content_sha256:
        return after, gettext("Das Einreichen der geltenden Fassung fehlt im Protokoll.")
    problem = _signatures_problem(agreement, submit=submit, after=after)
    if problem:
        return problem

    completed = agreement.completed_at or agreement.status in SIGNED_STATUSES
    if completed:
        completion = (
            trail.filter(action=AuditAction.COMPLETED, sequence__gt=submit.sequence)
            .order_by("sequence")
            .first()
        )
        if completion is None:
            return after, gettext("Der Abschluss der Unterzeichnung fehlt im Protokoll.")
        recorded = {
            entry.get("signature_id"): entry for entry in completion.details.get("signatures", [])
        }
        for signature in agreement.signatures.valid():
            entry = recorded.get(signature.pk)
            if entry is None or (
                entry.get("user_id"),
                entry.get("typed_name"),
                _parse_time(entry.get("signed_at")),
            ) != (signature.user_id, signature.typed_name, signature.signed_at):
                return completion.sequence, _signature_message(signature)
    return None


def _signatures_problem(agreement, *, submit, after: int) -> tuple[int, str] | None:
    """Every signature of the agreement against its ``signed`` event.

    A valid signature's event must follow the last submit; each must name the signer,
    the typed name, the time, the address and the hash the signature row holds.
    """
    signatures = list(Signature.objects.filter(agreement_id=agreement.pk))
    if not signatures:
        return None
    events = {
        event.details.get("signature_id"): event
        for event in AuditEvent.objects.filter(agreement_id=agreement.pk, action=AuditAction.SIGNED)
    }
    for signature in sorted(signatures, key=lambda s: s.signed_at):
        event = events.get(signature.pk)
        if event is None or (
            signature.is_valid and (submit is None or event.sequence < submit.sequence)
        ):
            return after, gettext("Die Unterschrift für %(party)s fehlt im Protokoll.") % {
                "party": Party(signature.party).label
            }
        if not _signature_matches(signature, event):
            return event.sequence, _signature_message(signature)
    return None


def _signature_matches(signature, event: AuditEvent) -> bool:
    details = event.details
    # Events before the signer's id and time were recorded in the details: the actor
    # column and the event's own time (a few milliseconds after the signature's).
    user_id = details.get("user_id", event.actor_id)
    if "signed_at" in details:
        same_time = _parse_time(details["signed_at"]) == signature.signed_at
    else:
        same_time = abs(event.created_at - signature.signed_at) <= OLD_EVENT_TIME_TOLERANCE
    return (
        user_id == signature.user_id
        and same_time
        and details.get("party") == signature.party
        and details.get("typed_name") == signature.typed_name
        and details.get("content_sha256") == signature.content_sha256
        and event.ip_address == signature.ip_address
    )


OLD_EVENT_TIME_TOLERANCE = datetime.timedelta(seconds=2)


def _signature_message(signature) -> str:
    return gettext(
        "Die Unterschrift für %(party)s stimmt nicht mit dem Protokoll überein "
        "(Person, Name, Zeitpunkt, Adresse oder Prüfsumme geändert)."
    ) % {"party": Party(signature.party).label}


def _parse_time(value) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _broken(sequence: int, message: str, events: list[AuditEvent]) -> ChainReport:
    return ChainReport(
        intact=False,
        message=message,
        broken_sequence=sequence,
        event_count=len(events),
        head_hash=events[-1].hash if events else "",
    )


def _actor_name(user) -> str:
    """Who acted, kept in the row itself: "Anna Keller (marketing)", or "System"."""
    if user is None:
        return "System"
    full_name = user.get_full_name()
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


def _utc_iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _clean_user_agent(value: str) -> str:
    # PostgreSQL refuses NUL in text; the column holds 500 characters.
    return (value or "").replace("\x00", "")[:USER_AGENT_MAX_LENGTH]
