"""The audit trail of an agreement: append-only events, chained by SHA-256.

Every event stores the hash of the event before it (of the same agreement) and its own
hash over its fields plus that previous hash. Editing a row changes its hash, deleting
one leaves a gap in the sequence or a broken link, reordering changes the hashed
sequence numbers: ``audit_verify`` finds each. It also holds the chain against the
agreement's own state (an agreement under signature must have its submit event, a
signed one its completion), which catches a deleted tail of the trail.

What a hash chain cannot stop is someone with database access who rewrites a row *and*
recomputes every hash after it. Against that the chain's head must be kept somewhere
else too: the completion mail carries the head hash for that reason, and the signed PDF
can print it.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .enums import AgreementStatus, AuditAction, Party
from .models import Agreement, AuditEvent
from .snapshot import canonical_json, sha256_hex, snapshot_sha256

# The first event of an agreement links to nothing.
GENESIS_HASH = ""
USER_AGENT_MAX_LENGTH = 500  # AuditEvent.user_agent and Signature.user_agent


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from: the client's IP address and browser, as recorded.

    ``from_request`` takes ``REMOTE_ADDR``, the address of the TCP peer. Behind a reverse
    proxy that is the proxy, not the signer: let the proxy speak the PROXY protocol and
    start gunicorn with ``--proxy-protocol --proxy-allow-from <proxy address>`` (then
    gunicorn puts the client's address into REMOTE_ADDR), or set REMOTE_ADDR from the
    proxy's X-Forwarded-For in a middleware that trusts only the proxy. Gunicorn's
    ``--forwarded-allow-ips`` alone does not change REMOTE_ADDR; it governs the scheme
    headers. Never read X-Forwarded-For here directly: any client can send one.
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
            ip=request.META.get("REMOTE_ADDR"),
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
    """Check the agreement's trail link by link and against the agreement's state.

    ``events``: the trail as ``audit_events`` returns it, when the caller has it already.
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
            return _broken(
                expected,
                gettext("Ereignis Nr. %(n)d wurde nach dem Eintrag verändert.") % {"n": expected},
                events,
            )
        previous_hash = event.hash

    problem = _state_problem(agreement, events)
    if problem:
        return _broken(len(events) + 1, problem, events)
    return ChainReport(
        intact=True,
        message=ngettext(
            "Das Audit-Protokoll ist intakt (%(count)d Ereignis).",
            "Das Audit-Protokoll ist intakt (%(count)d Ereignisse).",
            len(events),
        )
        % {"count": len(events)},
        event_count=len(events),
        head_hash=previous_hash,
    )


def _state_problem(agreement, events: list[AuditEvent]) -> str:
    """What the agreement's state says must be in the trail but is not ("" when all is)."""
    agreement = Agreement.objects.get(pk=agreement.pk)
    if not agreement.content_sha256:
        return ""
    if (
        agreement.content_snapshot is None
        or snapshot_sha256(agreement.content_snapshot) != agreement.content_sha256
    ):
        return gettext("Der eingefrorene Inhalt passt nicht zu seiner Prüfsumme.")

    submits = [i for i, e in enumerate(events) if e.action == AuditAction.SUBMITTED]
    if not submits or (
        events[submits[-1]].details.get("content_sha256") != agreement.content_sha256
    ):
        return gettext("Das Einreichen der geltenden Fassung fehlt im Protokoll.")
    since_submit = events[submits[-1] + 1 :]

    signed_ids = {
        e.details.get("signature_id") for e in since_submit if e.action == AuditAction.SIGNED
    }
    for signature in agreement.signatures.valid():
        if signature.pk not in signed_ids:
            return gettext("Die Unterschrift für %(party)s fehlt im Protokoll.") % {
                "party": Party(signature.party).label
            }
    completed = agreement.completed_at or agreement.status in (
        AgreementStatus.SIGNED,
        AgreementStatus.SUPERSEDED,
    )
    if completed and not any(e.action == AuditAction.COMPLETED for e in since_submit):
        return gettext("Der Abschluss der Unterzeichnung fehlt im Protokoll.")
    return ""


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
