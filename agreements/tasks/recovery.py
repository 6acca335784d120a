"""When a worker dies, or an enqueue is lost, no work is lost: ``tasks_recover``.

Every worker runs it when it starts and then every minute (``manage.py task_worker``);
cron may run it too (``manage.py tasks_recover``). It closes two gaps:

1. **A worker that died in the middle of a task** (killed, out of memory, its machine
   gone) leaves the task's row RUNNING, and django-tasks-db never runs such a row again
   (its issue #46). The task goes back to the queue (READY) once its worker is known to
   be dead. A worker id names its host and process (``worker_id``), so on the same
   host a dead worker is seen at once; a worker on another host, once the task has
   been running for longer than ``SLA_TASK_LEASE_SECONDS``. A task whose workers died
   ``MAX_WORKER_DEATHS`` times (say one that runs its worker out of memory) fails for
   good instead, logged and listed in the admin like any final failure.
2. **A web process that dies between its commit and the enqueue** leaves committed
   work without a task. So the sweep enqueues what the database says is due and no
   task covers: the PDF of a signed agreement that has none, and the mails of a step of
   the workflow (an audit event of ``mails.MAIL_ACTIONS``) of the last two days. The
   apps beside this one sweep their own mails the same way (``sweep_register``): the
   invitations of ``agreements.team``, the mentions of ``agreements.negotiation``.

A task run again does no harm: every task is idempotent (``agreements.tasks.jobs``).
The sweep needs the task table, so it does nothing on a backend without one.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks.utils import get_module_path
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from ..mails import MAIL_ACTIONS
from ..models import Agreement, AuditEvent
from .engine import task_state
from .jobs import signed_pdf_task, workflow_mail_task

logger = logging.getLogger(__name__)

MAX_WORKER_DEATHS = 3
# Work committed this recently is not missing yet: its enqueue on commit may be under way.
SWEEP_GRACE = datetime.timedelta(seconds=30)
MAIL_SWEEP_WINDOW = datetime.timedelta(days=2)
HOST_LENGTH = 40  # worker ids are at most 64 characters


# The sweeps of the apps beside this one, registered when their app is ready: each gets the
# start of the window and the moment before which work is settled, enqueues the tasks of
# its work in between that no task covers, and returns how many.
Sweep = Callable[[datetime.datetime, datetime.datetime], int]
_sweeps: list[Sweep] = []


def sweep_register(sweep: Sweep) -> Sweep:
    """Add an app's ``sweep`` to every ``tasks_recover``; usable as a decorator."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)
    return sweep


def enqueued_kwargs(
    task: Task, window_start: datetime.datetime
) -> list[tuple[dict, datetime.datetime]]:
    """The keyword arguments of each row of ``task`` enqueued since ``window_start``, with
    the time it was enqueued: what a sweep compares its work with."""
    return list(
        DBTaskResult.objects.filter(
            task_path=task.module_path, enqueued_at__gte=window_start
        ).values_list("args_kwargs__kwargs", "enqueued_at")
    )


class WorkerLost(Exception):
    """The worker running a task stopped before the task finished."""


WORKER_LOST = get_module_path(WorkerLost)


@dataclass(frozen=True)
class RecoveryReport:
    """What ``tasks_recover`` did: tasks given back to the queue, failed for good, enqueued."""

    requeued: int = 0
    failed: int = 0
    enqueued: int = 0


def worker_id() -> str:
    """An id for this process's worker: ``host:pid:random``, by which ``tasks_recover``
    tells whether the worker is still alive."""
    return f"{socket.gethostname()[:HOST_LENGTH]}:{os.getpid()}:{get_random_string(8)}"


def tasks_recover(*, now: datetime.datetime | None = None) -> RecoveryReport:
    """Give the tasks of dead workers back to the queue and enqueue work found missing."""
    now = now or timezone.now()
    requeued, failed = _requeue_abandoned(now)
    return RecoveryReport(requeued=requeued, failed=failed, enqueued=_enqueue_missing(now))


def _requeue_abandoned(now: datetime.datetime) -> tuple[int, int]:
    lease = datetime.timedelta(seconds=settings.SLA_TASK_LEASE_SECONDS)
    requeued = failed = 0
    running = DBTaskResult.objects.running().only("id", "task_path", "worker_ids", "started_at")
    for row in running:
        worker = row.worker_ids[-1] if row.worker_ids else ""
        alive = worker_alive(worker)
        overdue = row.started_at is None or row.started_at < now - lease
        if alive is not False and not overdue:
            continue
        if alive is False:
            reason = f"Worker {worker} stopped while running this task."
        else:
            reason = f"Worker {worker} has run this task for more than {lease} without finishing."
        # Only if nothing changed since it was read: a worker that finished meanwhile wins.
        unchanged = DBTaskResult.objects.filter(
            pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        if len(row.worker_ids) >= MAX_WORKER_DEATHS:
            reason += f" Given up after {len(row.worker_ids)} workers."
            if unchanged.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=WORKER_LOST,
                traceback=reason,
            ):
                failed += 1
                logger.error("Task %s (%s) failed for good: %s", row.pk, row.task_path, reason)
        elif unchanged.update(
            status=TaskResultStatus.READY, exception_class_path=WORKER_LOST, traceback=reason
        ):
            requeued += 1
            logger.warning("Task %s (%s) back in the queue: %s", row.pk, row.task_path, reason)
    return requeued, failed


def worker_alive(worker: str) -> bool | None:
    """Whether the worker of this id is alive: None when this process cannot tell.

    Only a worker on this host can be looked up, by its process id; a process that has
    ended but was not yet reaped by its parent (a zombie) counts as dead.
    """
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:HOST_LENGTH] or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _enqueue_missing(now: datetime.datetime) -> int:
    if not isinstance(signed_pdf_task.get_backend(), DatabaseBackend):
        return 0
    settled = now - SWEEP_GRACE
    enqueued = 0
    unstored = Agreement.objects.signed().filter(signed_pdf="", completed_at__lte=settled)
    for agreement_id in unstored.values_list("pk", flat=True):
        if task_state(signed_pdf_task, agreement_id=agreement_id) is None:
            signed_pdf_task.enqueue(agreement_id=agreement_id)
            enqueued += 1
            logger.warning("Signed PDF of agreement %s had no task: enqueued", agreement_id)
    window_start = now - MAIL_SWEEP_WINDOW
    events = AuditEvent.objects.filter(
        action__in=MAIL_ACTIONS, created_at__gte=window_start, created_at__lte=settled
    ).values_list("pk", flat=True)
    covered = set(
        DBTaskResult.objects.filter(
            task_path=workflow_mail_task.module_path, enqueued_at__gte=window_start
        ).values_list("args_kwargs__kwargs__event_id", flat=True)
    )
    for event_id in events:
        if event_id not in covered:
            workflow_mail_task.enqueue(event_id=event_id)
            enqueued += 1
            logger.warning("Mails of audit event %s had no task: enqueued", event_id)
    return enqueued + sum(sweep(window_start, settled) for sweep in _sweeps)
