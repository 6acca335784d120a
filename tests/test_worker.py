"""Nothing is lost when a worker dies: real worker processes, killed in the middle of a task.

The portal runs as in production: tasks in the database (django-tasks-db), run by
``manage.py task_worker`` processes, mail through a real SMTP server on 127.0.0.1
(``tests/mailserver.py``). Two signed agreements' completions are worked off while
their workers are killed with SIGKILL: the first while it renders and seals a PDF, the
second while the mail server has a mail's content but has not accepted it yet. After
a third worker has picked up what they left, each agreement has exactly one stored PDF
and every mail was accepted exactly once.
"""

import hashlib
import logging
from collections import Counter
from pathlib import Path

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from agreements.demo import load_demo, signed_demo_agreement
from agreements.enums import AuditAction, Party
from agreements.models import Agreement, AuditEvent, MailDelivery
from agreements.tasks.jobs import signed_pdf_task, workflow_mail_task

from .factories import sign_agreement, submit_agreement
from .mailserver import MailServer
from .workers import DATABASE_TASKS, WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mail_server(caplog):
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd logs every command
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def workers(settings, tmp_path, mail_server):
    """Starts worker processes for this test's database and mail server; kills what is left."""
    settings.TASKS = DATABASE_TASKS
    started = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(
            tmp_path / f"worker-{len(started) + 1}.log",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(mail_server.port),
            EMAIL_USE_TLS="0",
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def task_row(task, **kwargs) -> DBTaskResult | None:
    filters = {f"args_kwargs__kwargs__{name}": value for name, value in kwargs.items()}
    return (
        DBTaskResult.objects.filter(task_path=task.module_path, **filters)
        .order_by("-enqueued_at")
        .first()
    )


def unfinished() -> int:
    return DBTaskResult.objects.exclude(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    ).count()


def test_killed_workers_leave_one_pdf_per_agreement_and_each_mail_sent_once(
    settings, workers, mail_server
):
    # Arrange: two completions, committed; their tasks wait in the database.
    agreement = submit_agreement(load_demo())  # load_demo signed the 2026 SLA
    signed_2026 = signed_demo_agreement()
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)
    signed = [signed_2026, agreement]
    assert [a.status for a in Agreement.objects.filter(pk__in=[a.pk for a in signed])] == [
        "signed",
        "signed",
    ]
    assert unfinished() > 0 and mail_server.accepted == []

    # The first worker is killed while it renders and seals the first PDF.
    first = workers()
    running = wait_for(
        lambda: DBTaskResult.objects.filter(
            task_path=signed_pdf_task.module_path, status=TaskResultStatus.RUNNING
        ).first(),
        timeout=60,
        what="a PDF task to start",
        worker=first,
    )
    first.kill()
    [agreement_id] = [running.args_kwargs["kwargs"]["agreement_id"]]
    assert not Agreement.objects.get(pk=agreement_id).signed_pdf, "killed too late"
    assert DBTaskResult.objects.get(pk=running.pk).status == TaskResultStatus.RUNNING

    # The second sees at its start that the first is dead, takes its task over, stores
    # both PDFs, and is killed while the mail server holds the third mail unanswered.
    mail_server.handler.hold_number = 3
    second = workers()
    assert mail_server.handler.holding.wait(timeout=120), second.log()
    second.kill()
    mail_server.handler.release.set()  # the held mail is refused now: never accepted
    assert len(mail_server.accepted) == 2

    # A third worker picks up the mail task the second left and finishes everything.
    third = workers()
    wait_for(lambda: unfinished() == 0, timeout=120, what="all tasks to finish", worker=third)

    # Every task succeeded in the end; the two that were interrupted ran twice.
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists(), third.log()
    assert len(DBTaskResult.objects.get(pk=running.pk).worker_ids) == 2
    interrupted_mail = [
        row
        for row in DBTaskResult.objects.filter(task_path=workflow_mail_task.module_path)
        if len(row.worker_ids) == 2
    ]
    assert len(interrupted_mail) == 1

    # Exactly one PDF per agreement: the one recorded, intact, and no partial file.
    media = Path(settings.MEDIA_ROOT) / "signed"
    files = sorted(media.iterdir())
    stored = [Agreement.objects.get(pk=a.pk) for a in signed]
    assert [f.name for f in files] == sorted(Path(a.signed_pdf.name).name for a in stored)
    for each in stored:
        content = (media.parent / each.signed_pdf.name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == each.signed_pdf_sha256
        assert AuditEvent.objects.filter(agreement=each, action=AuditAction.PDF_STORED).count() == 1

    # Each mail accepted exactly once, and the ledger records exactly those mails.
    accepted = Counter(mail.message_id for mail in mail_server.accepted)
    assert accepted and set(accepted.values()) == {1}, accepted
    assert set(accepted) == set(MailDelivery.objects.values_list("message_id", flat=True))
    for each in stored:
        completion_mails = sorted(
            address
            for mail in mail_server.accepted
            if mail.subject == f"Unterzeichnet: {each}"
            for address in mail.to
        )
        assert completion_mails == [
            "management@muster.example",
            "marketing@muster.example",
            "sales@muster.example",
        ]
