"""What each person last read of an SLA, what changed since, and the rule for signing.

Every page that shows the document (the agreement page, the review step, the sign page)
records the version shown (``view_record``) after working out what changed since the
version shown last time (``changed_since``) and showing it. The sign page never lets a
signature through for a signer whose last recorded view is of another text than the
frozen one (``shown_frozen_text``): the POST is refused and the page shows the diff, so
nobody signs a text that changed behind their back without having been shown the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..diff import FieldChange, snapshot_diff
from ..enums import AgreementStatus
from ..models import Agreement, AuditEvent
from ..snapshot import agreement_snapshot, snapshot_sha256
from .history import HISTORY_ACTIONS
from .models import DocumentView


@dataclass(frozen=True)
class ShownVersion:
    """The content a page shows: the frozen one once submitted, else the live draft."""

    snapshot: dict
    content_sha256: str


@dataclass(frozen=True)
class ChangedSince:
    """What changed since the person's last view, and who changed it."""

    viewed_at: object
    changes: list[FieldChange]
    editors: list[str]


def shown_version(agreement: Agreement) -> ShownVersion:
    if agreement.status != AgreementStatus.DRAFT and agreement.content_snapshot:
        return ShownVersion(agreement.content_snapshot, agreement.content_sha256)
    snapshot = agreement_snapshot(agreement)
    return ShownVersion(snapshot, snapshot_sha256(snapshot))


def last_view(user, agreement: Agreement) -> DocumentView | None:
    return DocumentView.objects.filter(user=user, agreement_id=agreement.pk).first()


def changed_since(
    view: DocumentView | None, agreement: Agreement, shown: ShownVersion
) -> ChangedSince | None:
    """The diff between the last ``view`` and ``shown``; None when there is none to show."""
    if view is None or view.content_sha256 == shown.content_sha256:
        return None
    changes = snapshot_diff(view.snapshot, shown.snapshot)
    editors = list(
        dict.fromkeys(
            AuditEvent.objects.filter(
                agreement_id=agreement.pk,
                action__in=HISTORY_ACTIONS,
                sequence__gt=view.audit_sequence,
            )
            .order_by("sequence")
            .values_list("actor_name", flat=True)
        )
    )
    return ChangedSince(viewed_at=view.viewed_at, changes=changes, editors=editors)


def view_record(user, agreement: Agreement, shown: ShownVersion, view: DocumentView | None) -> None:
    """Remember that ``user`` was shown ``shown`` of ``agreement`` now.

    ``view`` is their last view as read before (None: this is their first); its row is
    updated in place. The trail's position comes from the agreement's head, read with
    the content shown (``audit.audit_record`` moves it with every event).
    """
    values = {
        "content_sha256": shown.content_sha256,
        "snapshot": shown.snapshot,
        "audit_sequence": agreement.audit_head_sequence,
        "viewed_at": timezone.now(),
    }
    if view is not None and DocumentView.objects.filter(pk=view.pk).update(**values):
        return
    try:
        with transaction.atomic():
            DocumentView.objects.create(user=user, agreement=agreement, **values)
    except IntegrityError:  # two tabs at the same instant: the other one recorded it
        DocumentView.objects.filter(user=user, agreement=agreement).update(**values)


def page_changes(user, agreement: Agreement) -> ChangedSince | None:
    """For a page that shows the document: what changed since last time; then recorded."""
    shown = shown_version(agreement)
    view = last_view(user, agreement)
    changes = changed_since(view, agreement, shown)
    view_record(user, agreement, shown, view)
    return changes


def shown_frozen_text(user, agreement: Agreement) -> bool:
    """Whether a signature of ``user`` may go through: they were shown the frozen text.

    True when their last recorded view is of the frozen content, or when they have none
    (nothing of theirs can be out of date; the sign page shows the whole text). False
    when they last saw another version and have not been shown the change since.
    """
    view = last_view(user, agreement)
    return view is None or view.content_sha256 == agreement.content_sha256
