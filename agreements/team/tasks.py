"""The invitation mail as a background task, retried like the workflow's mails, and the
sweep that finds an invitation whose task was lost (``agreements.tasks.recovery``)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from ..tasks.engine import retried
from ..tasks.recovery import enqueued_kwargs, sweep_register
from . import mails
from .models import Invitation

logger = logging.getLogger(__name__)


@task(takes_context=True)
def invitation_mail_task(context, *, invitation_id: int, attempt: int = 1) -> None:
    """Send the invitation's mail (``mails.send_invitation``), once per link."""
    with retried(context, attempt=attempt):
        mails.send_invitation(invitation_id)


@sweep_register
def invitation_mails_sweep(window_start: datetime.datetime, settled: datetime.datetime) -> int:
    """Enqueue the mail of each open invitation whose current link no task was enqueued for.

    A link is current from its ``sent_at`` (set again by a resend); its task is enqueued
    after that, once the invitation commits. An expired link is left alone: it would not
    work any more, the Team page offers to send a new one.
    """
    latest: dict[int, datetime.datetime] = {}
    for kwargs, enqueued_at in enqueued_kwargs(invitation_mail_task, window_start):
        invitation_id = kwargs.get("invitation_id")
        latest[invitation_id] = max(enqueued_at, latest.get(invitation_id, enqueued_at))
    due = Invitation.objects.open().filter(
        sent_at__gte=window_start, sent_at__lte=settled, expires_at__gt=settled
    )
    enqueued = 0
    for invitation_id, sent_at in due.values_list("pk", "sent_at"):
        if invitation_id not in latest or latest[invitation_id] < sent_at:
            invitation_mail_task.enqueue(invitation_id=invitation_id)
            enqueued += 1
            logger.warning("Mail of invitation %s had no task: enqueued", invitation_id)
    return enqueued
