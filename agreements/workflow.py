"""Every change of an agreement's status: submit, sign (and complete), decline, reopen, renew.

This module is the one place that assigns ``Agreement.status``. Each transition runs in
``transaction.atomic()``, re-reads the agreement with its row locked
(``select_for_update``), checks the state it starts from and who asks, writes an
``AuditEvent`` through ``agreements.audit.audit_record`` and enqueues what may be slow or
may fail as tasks once it commits (``agreements.tasks``): the mails its audit event
calls for, and on completion the signed PDF. Nothing is enqueued for a change that
rolls back, and no signer waits for a render, a timestamp server or a mail server.

The states (``AgreementStatus``)::

    DRAFT ──submit──▶ AWAITING_SIGNATURES ──both parties sign──▶ SIGNED ──renewal──▶ SUPERSEDED
      ▲                       │
      └──decline / reopen─────┘

A decline is not a state of its own: it sends the agreement back to DRAFT, like a
reopen, with the signatures already given voided (visibly: ``voided_at`` and
``void_reason``, never deleted) and the reason in the audit trail and the mail. The
authors then change the draft and submit it again; "declined" lives in the trail, where
it is history, and not in the status, where it would be one more state for every view.

Refusals raise ``WorkflowError`` with a German message the views show as they are.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .audit import RequestMeta, audit_record
from .dates import renewal_dates
from .document import SlaDocument
from .enums import AgreementStatus, AuditAction, Party, SigningMethod
from .identity.rules import method_allowed
from .models import Agreement, FurtherDefinition, Membership, Signature
from .negotiation.comments import thread_counts
from .people import display_name
from .permissions import is_author, represented_party
from .snapshot import NON_CONTENT_FIELDS, agreement_snapshot, snapshot_sha256
from .tasks.engine import enqueue_on_commit
from .tasks.jobs import signed_pdf_task, workflow_mail_task


class WorkflowError(Exception):
    """A refused transition; ``message`` is the German sentence to show the user.

    ``current`` is the agreement as the transition found it under its row lock, when it
    got that far: the page that shows the refusal needs no second read.
    """

    def __init__(self, message, *, current: Agreement | None = None):
        super().__init__(message)
        self.message = message
        self.current = current

    def __str__(self) -> str:
        return str(self.message)


def agreement_submit(
    *,
    agreement: Agreement,
    user,
    meta: RequestMeta,
    reviewed_revision: int | None = None,
    open_threads_confirmed: bool = False,
) -> Agreement:
    """Freeze a complete draft for signature; a marketing or sales member submits it.

    ``reviewed_revision`` is the revision the author's review page showed; a newer one
    refuses the submission. Stores the canonical content snapshot and its SHA-256 (what
    every signature must match), sets ``submitted_at`` and raises ``revision`` so any
    wizard page still open on the draft can no longer save. Mails "Bitte unterzeichnen"
    to both representatives. With comment threads still open, the author must say so
    (``open_threads_confirmed``); the event records the threads and the confirmation.
    Returns the updated agreement (the instance passed in is not changed).
    """
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_status(
            agreement,
            AgreementStatus.DRAFT,
            _("Nur ein Entwurf kann zur Unterzeichnung eingereicht werden."),
        )
        if not is_author(user, agreement, fresh=True):
            raise WorkflowError(_("Nur Mitglieder von Marketing oder Sales können einreichen."))
        if reviewed_revision is not None and reviewed_revision != agreement.revision:
            # Someone saved a step after this author reviewed: they would freeze a text
            # they have not seen. Checked under the row lock, so no save slips in between.
            raise WorkflowError(
                _(
                    "Das SLA wurde inzwischen geändert. Bitte prüfen Sie es noch einmal und "
                    "reichen Sie es dann ein."
                )
            )
        missing = SlaDocument(agreement).missing
        if missing:
            raise WorkflowError(
                _("Die Vereinbarung ist noch nicht vollständig. Es fehlen: %(missing)s.")
                % {"missing": get_text_list([str(slot.label) for slot in missing], _("und"))}
            )
        try:
            agreement.full_clean()
        except ValidationError as error:
            raise WorkflowError(" ".join(error.messages)) from error
        threads = thread_counts(agreement)
        if threads.open and not open_threads_confirmed:
            raise WorkflowError(
                ngettext(
                    "Es ist noch %(count)d Diskussion offen. Bestätigen Sie, dass Sie "
                    "trotzdem einreichen wollen.",
                    "Es sind noch %(count)d Diskussionen offen. Bestätigen Sie, dass Sie "
                    "trotzdem einreichen wollen.",
                    threads.open,
                )
                % {"count": threads.open}
            )

        snapshot = agreement_snapshot(agreement)
        agreement.content_snapshot = snapshot
        agreement.content_sha256 = snapshot_sha256(snapshot)
        agreement.submitted_at = timezone.now()
        agreement.status = AgreementStatus.AWAITING_SIGNATURES
        agreement.revision += 1
        agreement.save(
            update_fields=[
                "content_snapshot",
                "content_sha256",
                "submitted_at",
                "status",
                "revision",
                "updated_at",
            ]
        )
        event = audit_record(
            agreement=agreement,
            action=AuditAction.SUBMITTED,
            actor=user,
            meta=meta,
            details={
                "content_sha256": agreement.content_sha256,
                "revision": agreement.revision,
                # The comments freeze with the text (agreements.negotiation.comments).
                **(
                    {
                        "comment_threads": threads.total,
                        "open_threads": threads.open,
                        "open_threads_confirmed": bool(threads.open),
                    }
                    if threads.total
                    else {}
                ),
            },
        )
        enqueue_on_commit(workflow_mail_task, event_id=event.pk)
    return agreement


def agreement_sign(
    *,
    agreement: Agreement,
    party: Party | str,
    user,
    typed_name: str,
    content_sha256: str,
    meta: RequestMeta,
    method: SigningMethod = SigningMethod.PASSWORD,
    consent: str = "",
) -> Signature:
    """Sign for ``party`` as its named representative; the second signature completes.

    ``content_sha256`` is the hash of the version the signer read (the page hands it
    along); it must equal the frozen one, or the signer signs nothing they have not seen.
    ``typed_name`` must be the signer's full name as the document prints it. Confirming
    the signer's factor and the consent are the form's job before it calls this;
    ``method`` says which factor it checked, and must be one the organisation accepts
    (a second factor where it requires one). ``consent`` is the declaration the signer
    ticked, in the words the page showed; the ``signed`` event keeps it. The returned
    signature's ``agreement`` shows whether this signature completed it (status SIGNED).
    """
    party = Party(party)
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_status(
            agreement,
            AgreementStatus.AWAITING_SIGNATURES,
            _("Diese Vereinbarung kann zurzeit nicht unterzeichnet werden."),
        )
        if represented_party(user, agreement, fresh=True) != party:
            raise WorkflowError(
                _("Nur die benannte Vertretung von %(party)s kann für %(party)s unterzeichnen.")
                % {"party": party.label},
                current=agreement,
            )
        if agreement.signatures.valid().filter(party=party).exists():
            raise WorkflowError(
                _("Für %(party)s wurde bereits unterzeichnet.") % {"party": party.label},
                current=agreement,
            )
        if not method_allowed(SigningMethod(method), agreement.organisation):
            raise WorkflowError(
                _(
                    "Ihre Organisation verlangt zum Unterzeichnen einen zweiten Faktor: "
                    "einen Passkey oder einen Code aus der Authenticator-App."
                ),
                current=agreement,
            )
        if content_sha256 != agreement.content_sha256:
            raise WorkflowError(
                _(
                    "Die Vereinbarung wurde geändert, seit Sie sie geöffnet haben. Bitte lesen "
                    "Sie die aktuelle Fassung und unterzeichnen Sie dann."
                ),
                current=agreement,
            )
        # The frozen content must still be the live content; a change through a path
        # that bypassed the lock is caught here rather than signed.
        if agreement.content_hash() != agreement.content_sha256:
            raise WorkflowError(
                _(
                    "Der Inhalt stimmt nicht mehr mit der eingereichten Fassung überein. "
                    "Bitte wenden Sie sich an die Administration."
                ),
                current=agreement,
            )
        expected_name = display_name(user)
        if _normalise_name(typed_name) != _normalise_name(expected_name):
            raise WorkflowError(
                _(
                    "Bitte tippen Sie Ihren vollständigen Namen so, wie er in der Vereinbarung "
                    "steht: %(name)s."
                )
                % {"name": expected_name},
                current=agreement,
            )

        signature = Signature(
            agreement=agreement,
            party=party,
            user=user,
            typed_name=" ".join(typed_name.split()),
            signed_at=timezone.now(),
            ip_address=meta.ip,
            user_agent=meta.user_agent,
            content_sha256=agreement.content_sha256,
        )
        signature.full_clean()
        signature.save()
        audit_record(
            agreement=agreement,
            action=AuditAction.SIGNED,
            actor=user,
            meta=meta,
            # Everything the signature row holds, so ``audit_verify`` can hold the row
            # against it (the address and the browser are the event's own columns).
            details={
                "signature_id": signature.pk,
                "party": party.value,
                "user_id": user.pk,
                "typed_name": signature.typed_name,
                "signed_at": signature.signed_at,
                "content_sha256": signature.content_sha256,
                "method": SigningMethod(method).value,
                "consent": str(consent),
            },
        )
        signed_parties = set(agreement.signatures.valid().values_list("party", flat=True))
        if signed_parties == set(Party.values):
            _complete(agreement)
    return signature


def agreement_decline(*, agreement: Agreement, user, reason: str, meta: RequestMeta) -> Agreement:
    """A representative declines to sign: back to draft, signatures voided, authors told.

    ``reason`` is required; it goes into the voided signatures, the trail and the mail.
    """
    return _send_back_to_draft(
        agreement=agreement,
        user=user,
        meta=meta,
        reason=reason,
        action=AuditAction.DECLINED,
        may=lambda user, agreement: represented_party(user, agreement, fresh=True) is not None,
        wrong_status=_(
            "Nur eine Vereinbarung, die zur Unterzeichnung vorliegt, kann abgelehnt werden."
        ),
        not_allowed=_(
            "Nur die Vertretungen von Marketing und Sales können die Vereinbarung ablehnen."
        ),
        reason_missing=_("Bitte geben Sie einen Grund für die Ablehnung an."),
    )


def agreement_reopen(
    *, agreement: Agreement, user, meta: RequestMeta, reason: str = ""
) -> Agreement:
    """An author pulls a submitted agreement back to draft; signatures given are voided.

    Any marketing or sales member of the organisation may, e.g. to correct a mistake
    noticed after submitting. A signed agreement cannot be reopened: it is changed by a
    renewal. ``reason`` is optional and goes into the trail and the mail.
    """
    return _send_back_to_draft(
        agreement=agreement,
        user=user,
        meta=meta,
        reason=reason,
        action=AuditAction.REOPENED,
        may=lambda user, agreement: is_author(user, agreement, fresh=True),
        wrong_status=_(
            "Nur eine Vereinbarung, die zur Unterzeichnung vorliegt, kann zur "
            "Überarbeitung zurückgeholt werden."
        ),
        not_allowed=_(
            "Nur Mitglieder von Marketing oder Sales können die Vereinbarung zurückholen."
        ),
    )


# How a voided signature says why, in the SLA's own language, German, whatever language
# the person acting uses: it is stored on the signature and read by everyone.
VOID_REASON_VERB = {AuditAction.DECLINED: "Abgelehnt", AuditAction.REOPENED: "Zurückgeholt"}


def _send_back_to_draft(
    *, agreement, user, meta, reason, action, may, wrong_status, not_allowed, reason_missing=None
) -> Agreement:
    """Decline and reopen alike: under signature -> draft, signatures voided, all told.

    ``may`` decides who acts; ``reason_missing`` is the refusal of an empty reason where
    one is required.
    """
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_status(agreement, AgreementStatus.AWAITING_SIGNATURES, wrong_status)
        if not may(user, agreement):
            raise WorkflowError(not_allowed)
        reason = (reason or "").strip()
        if reason_missing and not reason:
            raise WorkflowError(reason_missing)
        void_reason = f"{VOID_REASON_VERB[action]} von {display_name(user)}"
        voided_ids = _back_to_draft(
            agreement, f"{void_reason}: {reason}" if reason else void_reason
        )
        event = audit_record(
            agreement=agreement,
            action=action,
            actor=user,
            meta=meta,
            details={"reason": reason, "voided_signature_ids": voided_ids},
        )
        enqueue_on_commit(workflow_mail_task, event_id=event.pk)
    return agreement


def agreement_renew(*, agreement: Agreement, user, meta: RequestMeta) -> Agreement:
    """Start next period's SLA from a signed one: a new draft linked by ``renews``.

    A marketing or sales member renews. Every text and figure is copied and stays
    editable; the period, and the renewal date with it, moves on by the period's length
    (``renewal_dates``). Not copied: signatures, the frozen snapshot, the sealed PDF.
    The framework document's file is shared with the predecessor (``uploads`` deletes a
    file only when no agreement points to it any more). A representative who no longer
    holds the party's role is left empty, to be named again. One successor per
    agreement: a second renewal is refused. The predecessor stays SIGNED until the
    successor is signed (``_complete``). Returns the new draft.
    """
    with transaction.atomic():
        # The lock on the predecessor makes two renewals of it run one after the other,
        # so the second sees the first's successor and is refused.
        agreement = _locked(agreement)
        if Agreement.objects.filter(renews=agreement).exists():
            raise WorkflowError(_("Diese Vereinbarung wurde bereits erneuert."))
        _require_status(
            agreement,
            AgreementStatus.SIGNED,
            _("Nur eine unterzeichnete Vereinbarung kann erneuert werden."),
        )
        if not is_author(user, agreement, fresh=True):
            raise WorkflowError(
                _("Nur Mitglieder von Marketing oder Sales können die Vereinbarung erneuern.")
            )

        successor = Agreement(organisation_id=agreement.organisation_id, renews=agreement)
        for field in Agreement._meta.concrete_fields:
            if field.name not in NON_CONTENT_FIELDS:
                setattr(successor, field.attname, getattr(agreement, field.attname))
        successor.framework_document = agreement.framework_document.name
        successor.start_date, successor.end_date, successor.renewal_date = renewal_dates(
            agreement.start_date, agreement.end_date, agreement.renewal_date
        )
        for party in Party:
            user_id = getattr(agreement, f"{party.value}_representative_id")
            if not Membership.objects.filter(
                organisation_id=agreement.organisation_id, user_id=user_id, role=party.value
            ).exists():
                setattr(successor, f"{party.value}_representative", None)
        successor.created_by = successor.updated_by = user
        try:
            successor.full_clean()
        except ValidationError as error:
            raise WorkflowError(" ".join(error.messages)) from error
        successor.save()
        successor.further_definitions.bulk_create(
            FurtherDefinition(agreement=successor, position=d.position, term=d.term, text=d.text)
            for d in agreement.further_definitions.order_by("position", "id")
        )
        audit_record(
            agreement=successor,
            action=AuditAction.CREATED,
            actor=user,
            meta=meta,
            details={"renews_id": agreement.pk},
        )
        event = audit_record(
            agreement=agreement,
            action=AuditAction.RENEWED,
            actor=user,
            meta=meta,
            details={"successor_id": successor.pk},
        )
        enqueue_on_commit(workflow_mail_task, event_id=event.pk)
    return successor


def _complete(agreement: Agreement) -> None:
    """Both parties have signed: SIGNED, once, inside the signing transaction.

    The row lock taken by ``agreement_sign`` makes two signers who press the button at
    the same instant run one after the other, so only the second sees both signatures.
    """
    agreement.status = AgreementStatus.SIGNED
    agreement.completed_at = timezone.now()
    agreement.save(update_fields=["status", "completed_at", "updated_at"])
    signatures = agreement.signatures.valid().order_by("signed_at")
    event = audit_record(
        agreement=agreement,
        action=AuditAction.COMPLETED,
        actor=None,  # the portal completes; the signer's own event precedes this one
        meta=RequestMeta(),
        details={
            "content_sha256": agreement.content_sha256,
            "signatures": [
                {
                    "signature_id": s.pk,
                    "party": s.party,
                    "user_id": s.user_id,
                    "typed_name": s.typed_name,
                    "signed_at": s.signed_at,
                    "content_sha256": s.content_sha256,
                }
                for s in signatures
            ],
        },
    )
    if agreement.renews_id:
        _supersede(agreement)
    # The PDF's task first: it has the higher priority anyway (agreements.tasks.jobs).
    enqueue_on_commit(signed_pdf_task, agreement_id=agreement.pk)
    enqueue_on_commit(workflow_mail_task, event_id=event.pk)


def _supersede(successor: Agreement) -> None:
    """The signed renewal replaces its predecessor, in the successor's signing transaction."""
    predecessor = _locked(successor.renews)
    if predecessor.status != AgreementStatus.SIGNED:
        return
    predecessor.status = AgreementStatus.SUPERSEDED
    predecessor.save(update_fields=["status", "updated_at"])
    audit_record(
        agreement=predecessor,
        action=AuditAction.SUPERSEDED,
        actor=None,  # the portal supersedes, as it completes
        meta=RequestMeta(),
        details={"successor_id": successor.pk},
    )


def _back_to_draft(agreement: Agreement, void_reason: str) -> list[int]:
    """Void the valid signatures and unfreeze the content; returns the voided ids."""
    signatures = agreement.signatures.valid()
    voided_ids = list(signatures.order_by("signed_at").values_list("pk", flat=True))
    signatures.update(voided_at=timezone.now(), void_reason=void_reason)
    agreement.status = AgreementStatus.DRAFT
    agreement.content_snapshot = None
    agreement.content_sha256 = ""
    agreement.submitted_at = None
    agreement.revision += 1
    agreement.save(
        update_fields=[
            "status",
            "content_snapshot",
            "content_sha256",
            "submitted_at",
            "revision",
            "updated_at",
        ]
    )
    return voided_ids


def _locked(agreement: Agreement) -> Agreement:
    """The agreement re-read with its row locked until the transaction ends."""
    return Agreement.objects.select_for_update().get(pk=agreement.pk)


def _require_status(agreement: Agreement, status: AgreementStatus, message) -> None:
    if agreement.status != status:
        raise WorkflowError(message, current=agreement)


def _normalise_name(name: str) -> str:
    return " ".join((name or "").split()).casefold()
