"""The portal's tasks: the signed PDF, the mails of the workflow, the reminders.

Each one is safe to run twice, because a worker may die after doing part of it and the
task then runs again (``agreements.tasks.recovery``), and a failed attempt is retried
(``engine.retried``):

- ``signed_pdf_task`` stores the PDF once: ``archive.signed_pdf_store`` does nothing
  when it is stored, and holds the agreement's row lock from that check to the commit.
- ``workflow_mail_task`` and ``reminders_task`` send each mail once: every mail has a
  key in the ledger (``agreements.outbox``), written in the transaction that hands it to the server.

The PDF goes first when several tasks wait (``priority``): people wait for it on the
agreement page, while a mail arriving a second later keeps nobody waiting.
"""

from __future__ import annotations

import datetime

from django_tasks import TaskResultStatus, task

from .. import archive, mails, reminders
from .engine import TaskState, retried, task_state

PDF_PRIORITY = 10


class RemindersFailed(Exception):
    """Some reminders could not be sent; the retry sends them (the others are recorded)."""


@task(priority=PDF_PRIORITY, takes_context=True)
def signed_pdf_task(context, *, agreement_id: int, attempt: int = 1) -> dict:
    """Render, seal (with its timestamp, when configured) and store an agreement's signed PDF.

    An agreement that is not signed, or whose content no longer matches what was signed,
    fails at once: no retry would change that, and staff must look at it.
    """
    with retried(context, attempt=attempt, final=(archive.SignedPdfRefused,)):
        agreement = archive.signed_pdf_store(agreement_id=agreement_id)
    return {"sha256": agreement.signed_pdf_sha256}


@task(takes_context=True)
def workflow_mail_task(context, *, event_id: int, attempt: int = 1) -> None:
    """The mails of one step of the workflow, told by its audit event (``mails.send_for_event``)."""
    with retried(context, attempt=attempt):
        mails.send_for_event(event_id)


@task(takes_context=True)
def reminders_task(context, *, today: str, attempt: int = 1) -> dict:
    """The reminders due on ``today`` (an ISO date), each once (``reminders.reminders_send``)."""
    with retried(context, attempt=attempt):
        report = reminders.reminders_send(today=datetime.date.fromisoformat(today))
        if report.failed:
            raise RemindersFailed(f"{report.failed} reminder(s) for {today} not sent")
    return {"sent": report.sent, "skipped": report.skipped}


def signed_pdf_ensure(*, agreement_id: int) -> TaskState | None:
    """Enqueue the signed PDF's task unless one is waiting or running; return its state.

    For a download that finds no PDF (and, with it, a task that failed for good gets
    another chance once someone asks). Two such calls at the same instant may enqueue
    two tasks: the second finds the PDF stored and does nothing.
    """
    state = task_state(signed_pdf_task, agreement_id=agreement_id)
    if state is TaskState.PENDING:
        return state
    result = signed_pdf_task.enqueue(agreement_id=agreement_id)
    # The immediate backend has run it by now; the database backend has only stored it.
    if not result.is_finished:
        return TaskState.PENDING
    succeeded = result.status == TaskResultStatus.SUCCESSFUL
    return TaskState.SUCCEEDED if succeeded else TaskState.FAILED
