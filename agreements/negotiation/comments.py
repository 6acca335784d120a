"""Comments on a draft's sections: open a thread, reply, edit one's own, resolve, reopen.

Marketing, sales and management of the agreement's organisation comment (the views
fetch the agreement through ``permissions.get_agreement_for``); only on a draft: once
submitted, the comments are frozen with the text, and the signed PDF's audit page says
how many threads there were and whether all were resolved. ``@Name`` of a member
mails that member, by a task after the comment commits (``agreements.negotiation.mails``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import AgreementStatus
from ..models import Agreement
from ..people import display_name
from ..tasks.engine import enqueue_on_commit
from .mentions import mentioned_members
from .models import COMMENT_MAX_LENGTH, Comment, Thread
from .sections import SECTION_BY_KEY

# How long the author may still correct a comment; after that, a reply says it.
EDIT_WINDOW = datetime.timedelta(minutes=15)


class CommentError(Exception):
    """A refused comment action; ``message`` is the German sentence to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ThreadCounts:
    total: int
    open: int

    @property
    def all_resolved(self) -> bool:
        return self.open == 0


def thread_counts(agreement: Agreement) -> ThreadCounts:
    """How many threads the agreement has, and how many are still open (one query)."""
    counts = Thread.objects.filter(agreement_id=agreement.pk).aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(resolved_at__isnull=True))
    )
    return ThreadCounts(counts["total"], counts["open"])


def thread_open(*, agreement: Agreement, section: str, user, body: str) -> Thread:
    """A new thread on ``section`` of a draft, with its first comment."""
    if section not in SECTION_BY_KEY:
        raise CommentError(_("Bitte wählen Sie einen Abschnitt des SLA."))
    with transaction.atomic():
        _require_draft(agreement)
        thread = Thread(agreement=agreement, section=section, created_at=timezone.now())
        thread.full_clean(exclude=["agreement"])
        thread.save()
        _comment_add(thread, user, body)
    return thread


def comment_reply(*, thread: Thread, user, body: str) -> Comment:
    """A reply in a thread; a reply to a resolved thread reopens it."""
    with transaction.atomic():
        _require_draft(thread.agreement)
        if thread.is_resolved:
            _set_resolved(thread, None)
        return _comment_add(thread, user, body)


def comment_edit(*, comment: Comment, user, body: str) -> Comment:
    """The author corrects their own comment, within ``EDIT_WINDOW`` of writing it."""
    if comment.author_id != user.pk:
        raise PermissionError("not the author")
    with transaction.atomic():
        _require_draft(comment.thread.agreement)
        if timezone.now() - comment.created_at > EDIT_WINDOW:
            raise CommentError(
                _(
                    "Ein Kommentar kann nur in den ersten 15 Minuten bearbeitet werden. "
                    "Schreiben Sie stattdessen eine Antwort."
                )
            )
        comment.body = _clean_body(body)
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
    return comment


def thread_resolve(*, thread: Thread, user, resolved: bool) -> Thread:
    """Mark a thread resolved (``resolved``) or open again."""
    with transaction.atomic():
        _require_draft(thread.agreement)
        _set_resolved(thread, user if resolved else None)
    return thread


def _set_resolved(thread: Thread, user) -> None:
    thread.resolved_at = timezone.now() if user else None
    thread.resolved_by = user
    thread.resolved_by_name = display_name(user) if user else ""
    thread.save(update_fields=["resolved_at", "resolved_by", "resolved_by_name"])


def _comment_add(thread: Thread, user, body: str) -> Comment:
    comment = Comment(
        thread=thread,
        author=user,
        author_name=display_name(user),
        body=_clean_body(body),
        created_at=timezone.now(),
    )
    comment.save()
    mentioned = mentioned_members(thread.agreement, comment.body, exclude=user)
    if mentioned:
        from .mails import mention_mail_task  # the task module imports the mail machinery

        for member in mentioned:
            enqueue_on_commit(mention_mail_task, comment_id=comment.pk, user_id=member.pk)
    return comment


def _clean_body(body: str) -> str:
    body = (body or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not body:
        raise CommentError(_("Bitte schreiben Sie einen Kommentar."))
    if len(body) > COMMENT_MAX_LENGTH:
        raise CommentError(
            _("Ein Kommentar hat höchstens %(max)d Zeichen (dieser hat %(count)d).")
            % {"max": COMMENT_MAX_LENGTH, "count": len(body)}
        )
    return body


def _require_draft(agreement: Agreement) -> None:
    """Comments change only on a draft; checked under the agreement's row lock."""
    status = (
        Agreement.objects.select_for_update()
        .filter(pk=agreement.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status != AgreementStatus.DRAFT:
        raise CommentError(
            _(
                "Das SLA ist eingereicht: Die Kommentare sind mit dem Text eingefroren. "
                "Ziehen Sie es zurück, um weiter zu diskutieren."
            )
        )
