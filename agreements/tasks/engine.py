"""How the portal hands work to the task engine, and what it adds on top: retries and state.

django-tasks defines tasks and backends; django-tasks-db stores each enqueued task as a
row (``DBTaskResult``) that its worker runs once. Three things are ours:

- **Enqueue on commit** (``enqueue_on_commit``): a task is enqueued once the transaction
  that asked for it has committed, so a rolled-back signature enqueues nothing, and a
  worker never looks for rows it cannot see yet.
- **Retry with back-off** (``retried``, ``RetryPolicy``): a task body that fails enqueues
  the same task again, with ``attempt`` one higher and a ``run_after`` that moves further
  out with each attempt. The failed attempt stays in the task table as FAILED with
  ``RetryScheduled`` as its error and the cause in its traceback, so staff see every
  attempt. The last attempt fails with the error itself: final, logged as an error and
  listed as such in the admin (``agreements.tasks.admin``).
- **State** (``task_state``): whether the task for an agreement is waiting or running,
  has succeeded, or has failed for good, as the task table says.

Retries need a backend that can defer (``supports_defer``), as the database backend
can. The immediate backend, which runs a task inside ``enqueue`` and which most tests
use, logs a failure and does not retry.
"""

from __future__ import annotations

import datetime
import enum
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskContext, TaskResultStatus
from django_tasks.base import Task
from django_tasks.utils import get_module_path
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class RetryScheduled(Exception):
    """The error of an attempt that failed while a later attempt is enqueued."""


RETRY_SCHEDULED = get_module_path(RetryScheduled)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a task gets in all, and how long it waits before each retry.

    The wait after the n-th failed attempt is ``first_delay * factor ** (n - 1)``, at
    most ``max_delay``. With a first delay of 30 s: 30 s, 2 min, 8 min, 32 min, 1 h, so
    six attempts span some 1¾ hours, long enough for a mail or timestamp server to return.
    """

    attempts: int = 6
    first_delay: datetime.timedelta = datetime.timedelta(seconds=30)
    factor: float = 4.0
    max_delay: datetime.timedelta = datetime.timedelta(hours=1)

    def delay(self, attempt: int) -> datetime.timedelta:
        """How long the next attempt waits after ``attempt`` (1 for the first) failed."""
        return min(self.first_delay * self.factor ** (attempt - 1), self.max_delay)


def default_policy() -> RetryPolicy:
    """The policy of every task: its first delay comes from ``SLA_TASK_RETRY_DELAY_SECONDS``."""
    delay = datetime.timedelta(seconds=settings.SLA_TASK_RETRY_DELAY_SECONDS)
    return RetryPolicy(first_delay=delay)


def enqueue_on_commit(task: Task, /, **kwargs) -> None:
    """Enqueue ``task`` with these keyword arguments once the current transaction commits.

    An enqueue that fails then (the database gone at that instant) is logged, not
    raised: what committed stands, and ``agreements.tasks.recovery`` enqueues the work
    it finds missing. Outside a transaction the task is enqueued at once.
    """

    def enqueue():
        try:
            task.enqueue(**kwargs)
        except Exception:
            logger.exception("Task %s (%s) could not be enqueued", task.name, _describe(kwargs))

    transaction.on_commit(enqueue)


@contextmanager
def retried(
    context: TaskContext,
    *,
    attempt: int,
    policy: RetryPolicy | None = None,
    final: tuple[type[BaseException], ...] = (),
):
    """Run the block; when it fails, enqueue the task's next attempt or give up after the last.

    ``attempt`` is the task's own keyword argument (1 the first time; the retry gets one
    more). ``final`` lists errors no retry can mend (an agreement that is not signed):
    they fail at once. A worker stopped in the middle (``SystemExit``) counts as a failed
    attempt too, so a forced shutdown loses nothing.
    """
    policy = policy or default_policy()
    try:
        yield
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        result = context.task_result
        task = result.task
        if (
            attempt >= policy.attempts
            or isinstance(error, final)
            or not task.get_backend().supports_defer
        ):
            logger.error(
                "Task %s (%s) failed for good after %d attempt(s): %r",
                task.name,
                _describe(result.kwargs),
                attempt,
                error,
            )
            raise
        run_after = timezone.now() + policy.delay(attempt)
        retry = task.using(run_after=run_after).enqueue(
            *result.args, **{**result.kwargs, "attempt": attempt + 1}
        )
        logger.warning(
            "Task %s (%s) failed in attempt %d of %d, retried at %s as %s: %r",
            task.name,
            _describe(result.kwargs),
            attempt,
            policy.attempts,
            run_after.isoformat(timespec="seconds"),
            retry.id,
            error,
        )
        raise RetryScheduled(
            f"Attempt {attempt} of {policy.attempts} failed; attempt {attempt + 1} is task "
            f"{retry.id}, not before {run_after.isoformat(timespec='seconds')}."
        ) from error


class TaskState(enum.StrEnum):
    """Where the work of a task stands, for pages that wait for it."""

    PENDING = "pending"  # enqueued, running, or failed with a retry enqueued
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # for good: after the last attempt, or with a final error


def task_state(task: Task, /, **kwargs) -> TaskState | None:
    """The state of the newest run of ``task`` whose keyword arguments include ``kwargs``.

    None when there is none, or when the backend keeps no table to ask (the immediate
    backend). A retry is enqueued while the attempt before it runs, so the newest run is
    always the one that counts.
    """
    if not isinstance(task.get_backend(), DatabaseBackend):
        return None
    newest = (
        DBTaskResult.objects.filter(
            task_path=task.module_path,
            backend_name=task.backend,
            **{f"args_kwargs__kwargs__{name}": value for name, value in kwargs.items()},
        )
        .order_by("-enqueued_at")
        .values_list("status", "exception_class_path")
        .first()
    )
    if newest is None:
        return None
    status, error_class = newest
    if status == TaskResultStatus.SUCCESSFUL:
        return TaskState.SUCCEEDED
    if status == TaskResultStatus.FAILED and error_class != RETRY_SCHEDULED:
        return TaskState.FAILED
    return TaskState.PENDING


def _describe(kwargs: dict) -> str:
    """``agreement_id=7, attempt=2``: which piece of work a log line is about."""
    return ", ".join(f"{name}={value!r}" for name, value in sorted(kwargs.items()))
