"""The invitation mail as a background task, retried like the workflow's mails."""

from __future__ import annotations

from django_tasks import task

from ..tasks.engine import retried
from . import mails


@task(takes_context=True)
def invitation_mail_task(context, *, invitation_id: int, attempt: int = 1) -> None:
    """Send the invitation's mail (``mails.send_invitation``), once per link."""
    with retried(context, attempt=attempt):
        mails.send_invitation(invitation_id)
