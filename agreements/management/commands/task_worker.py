"""``manage.py task_worker``: runs the portal's background tasks; several may run at once.

It is django-tasks-db's worker (``manage.py db_worker``, with all its options) plus what
that worker leaves out (``agreements.tasks.recovery``): before its first task, and then
every ``--recover-interval`` seconds, it gives the tasks of workers that died back to
the queue and enqueues work whose enqueue was lost. Its worker id names its host and
process, so the next worker on the same host sees at once that it is gone.

Before its first task it loads what a render needs (fonts, hyphenation), as gunicorn's
workers do, so the first signed PDF after a start is not a second slower.

Ctrl-C or SIGTERM stops it after the task it is running; a second one stops it at once
(the task then runs again, later, on another worker).
"""

import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from agreements.pdf import pdf_warm_up
from agreements.tasks.recovery import tasks_recover
from agreements.tasks.recovery import worker_id as new_worker_id


class Command(db_worker.Command):
    help = (
        "Runs background tasks (django-tasks-db's db_worker) and gives the tasks of dead "
        "workers back to the queue, at start and every --recover-interval seconds."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)
        parser.add_argument(
            "--recover-interval",
            type=float,
            default=60.0,
            help="Seconds between two checks for dead workers' tasks; 0: only at start "
            "(default: %(default)s).",
        )

    def handle(self, *args, recover_interval: float, worker_id: str | None = None, **options):
        # With --reload the reloading parent only watches files: the child runs the tasks.
        runs_tasks = not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if runs_tasks:
            try:
                pdf_warm_up()
            except Exception:  # the task that renders will report it, with its retries
                db_worker.logger.exception("PDF warm-up failed")
            _recover()
            if recover_interval > 0:
                threading.Thread(
                    target=_recover_every,
                    args=(recover_interval,),
                    name="task-recovery",
                    daemon=True,
                ).start()
        super().handle(*args, worker_id=worker_id or new_worker_id(), **options)


def _recover() -> None:
    report = tasks_recover()
    if report.requeued or report.failed or report.enqueued:
        db_worker.logger.info("Recovery: %s", report)


def _recover_every(interval: float) -> None:
    """The periodic check, in a thread of its own beside the worker's loop, until the
    process ends (the worker has no hook for it between tasks)."""
    pause = threading.Event()  # never set: a sleep that the process's end interrupts
    while not pause.wait(interval):
        try:
            _recover()
        except Exception:
            db_worker.logger.exception("Recovery of abandoned tasks failed")
        finally:
            connections.close_all()  # this thread's connections
