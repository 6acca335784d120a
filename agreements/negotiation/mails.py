"""The mail to a member named with ``@`` in a comment, sent by a task once it commits.

Through the mail ledger (``agreements.outbox``), keyed by comment and recipient: sent
once, however often the task runs. In the portal's language, like the workflow's mails.
A mention whose task was lost (a web process that died after its commit) is found by
``mention_mails_sweep``, which ``tasks_recover`` runs.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_tasks import task

from ..mails import agreement_link, html_body
from ..outbox import mail_deliver
from ..people import display_name
from ..permissions import can_view
from ..tasks.engine import retried
from ..tasks.recovery import enqueued_kwargs, sweep_register
from .mentions import mentioned_members
from .models import Comment
from .sections import SECTION_BY_KEY

logger = logging.getLogger(__name__)


def mention_send(*, comment_id: int, user_id: int) -> bool:
    """Tell ``user_id`` that comment ``comment_id`` names them; False when not sent now."""
    comment = (
        Comment.objects.select_related("thread__agreement__organisation")
        .filter(pk=comment_id)
        .first()
    )
    recipient = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if comment is None or recipient is None or not recipient.email:
        return False
    agreement = comment.thread.agreement
    if not can_view(recipient, agreement):
        return False  # left the organisation since: they see nothing of it any more
    section = SECTION_BY_KEY.get(comment.thread.section)
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("%(name)s hat Sie in einem Kommentar erwähnt") % {
            "name": comment.author_name
        }
        link = (
            settings.SLA_SITE_URL
            + reverse("agreement_history", args=[agreement.pk])
            + f"#thread-{comment.thread_id}"
        )
        text = render_to_string(
            "agreements/negotiation/email/mention.txt",
            {
                "recipient_name": display_name(recipient),
                "author_name": comment.author_name,
                "section": str(section.title) if section else comment.thread.section,
                "organisation": agreement.organisation.name,
                "body": comment.body,
                "link": link,
                "agreement_link": agreement_link(agreement),
            },
        ).strip()
        # The comment is the author's text: only the portal's two links are links.
        html = render_to_string(
            "agreements/email/message.html",
            {"body": html_body(text, link, agreement_link(agreement)), "subject": subject},
        )
    return mail_deliver(
        key=f"comment-{comment.pk}.mention.user-{recipient.pk}",
        agreement_id=agreement.pk,
        recipient=recipient,
        subject=subject,
        text=text + "\n",
        html=html,
    )


@task(takes_context=True)
def mention_mail_task(context, *, comment_id: int, user_id: int, attempt: int = 1) -> None:
    """The mention mail of one comment to one member (``mention_send``)."""
    with retried(context, attempt=attempt):
        mention_send(comment_id=comment_id, user_id=user_id)


@sweep_register
def mention_mails_sweep(window_start: datetime.datetime, settled: datetime.datetime) -> int:
    """Enqueue the mention mail of each comment and member named that no task was enqueued for.

    Who is named is read again from the comment's text, as ``comments`` read it when the
    comment was saved; the ledger's key sends each mail once however often it is enqueued.
    """
    covered = {
        (kwargs.get("comment_id"), kwargs.get("user_id"))
        for kwargs, _ in enqueued_kwargs(mention_mail_task, window_start)
    }
    comments = Comment.objects.filter(
        created_at__gte=window_start, created_at__lte=settled, body__contains="@"
    ).select_related("thread__agreement", "author")
    enqueued = 0
    for comment in comments:
        agreement = comment.thread.agreement
        for member in mentioned_members(agreement, comment.body, exclude=comment.author):
            if (comment.pk, member.pk) not in covered:
                mention_mail_task.enqueue(comment_id=comment.pk, user_id=member.pk)
                enqueued += 1
                logger.warning(
                    "Mention of user %s in comment %s had no task: enqueued", member.pk, comment.pk
                )
    return enqueued
