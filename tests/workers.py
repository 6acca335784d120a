"""Running tasks in tests: here, with the worker's own code, or in a real worker process.

``run_due_tasks`` claims and runs the due tasks in this process one after the other
through django-tasks-db's ``Worker.run_task``, as its worker loop does, but without
that loop's closing of database connections (which would end a test's transaction).
``WorkerProcess`` starts ``manage.py task_worker`` as a process of its own against the
test database; the test that uses it must commit what the worker should see
(``django_db(transaction=True)``). Under pytest-xdist each test process has its own
test database, and each worker process is told which.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
TEST_WORKER_ID = "test-process:0:in-process"
# Quick to start and to notice a task; recovery at start only, as the tests drive it.
WORKER_OPTIONS = [
    "--no-reload",
    "--no-startup-delay",
    "--interval",
    "0.1",
    "--recover-interval",
    "0",
]


def run_due_tasks(limit: int = 100) -> int:
    """Run the tasks that are due now, as a worker would; returns how many ran."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=TEST_WORKER_ID,
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        row = DBTaskResult.objects.ready().get_locked()
        if row is None:
            break
        row.claim(worker.worker_id)
        worker.run_task(row)
        ran += 1
    return ran


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for a subprocess."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    credentials = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{credentials}@{params['HOST']}:{params['PORT'] or 5432}/{params['NAME']}"


class WorkerProcess:
    """``manage.py task_worker`` against the test database, with the test's settings."""

    def __init__(self, log_file: Path, **environment: str):
        self.log_file = log_file
        self.environment = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SLA_SEAL_PKCS12_FILE": "",
            "SLA_SEAL_KEY_FILE": str(settings.SLA_SEAL_KEY_FILE),
            "SLA_SEAL_CERT_FILE": str(settings.SLA_SEAL_CERT_FILE),
            "SLA_SEAL_PASSPHRASE": "",
            "SLA_SEAL_TIMESTAMP_URL": "",
            "DJANGO_LOG_LEVEL": "INFO",
            **environment,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "task_worker", *WORKER_OPTIONS],
                cwd=BASE_DIR,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: the process ends at once, in the middle of whatever it does."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


def wait_for(condition, *, timeout: float, what: str, worker: WorkerProcess | None = None):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker ended while waiting for {what}:\n{worker.log()}")
        time.sleep(0.02)
    log = worker.log() if worker is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log}")
