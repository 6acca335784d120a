"""Background work on the database backend: enqueue on commit, retries, recovery, the ledger.

The tasks run here through django-tasks-db's own ``Worker.run_task`` in the test's
process (``tests/workers.run_due_tasks``); tests/test_worker.py runs real worker
processes. A retry's delay "passes" by setting ``SLA_TASK_RETRY_DELAY_SECONDS`` to 0,
or, where the delay itself is the point, by moving the retry's ``run_after`` to now.
"""

import datetime
import hashlib
import os
import re
import socket
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pyhanko.pdf_utils.reader import PdfFileReader

from agreements import archive
from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.models import Agreement, AuditEvent, MailDelivery, Membership
from agreements.tasks.engine import RETRY_SCHEDULED, RetryPolicy, TaskState, task_state
from agreements.tasks.jobs import signed_pdf_task, workflow_mail_task
from agreements.tasks.recovery import (
    MAX_WORKER_DEATHS,
    WORKER_LOST,
    tasks_recover,
    worker_alive,
)

from .factories import sign_agreement, submit_agreement, tamper
from .mailserver import MailServer
from .workers import DATABASE_TASKS, run_due_tasks

HOST = socket.gethostname()[:40]


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def signed(demo_agreement, database_tasks):
    """The 2027 demo SLA signed by both; the test never commits, so no task was enqueued."""
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    sign_agreement(demo_agreement, Party.SALES)
    agreement = Agreement.objects.get(pk=demo_agreement.pk)
    assert agreement.status == AgreementStatus.SIGNED and not agreement.signed_pdf
    assert not DBTaskResult.objects.exists()
    return agreement


@pytest.fixture
def broken_seal(settings, tmp_path):
    """The seal's key file is missing: sealing fails, as with a lost or unreadable key."""
    key_file = settings.SLA_SEAL_KEY_FILE
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"
    yield lambda: setattr(settings, "SLA_SEAL_KEY_FILE", key_file)  # mends it


def rows(task, **kwargs) -> list[DBTaskResult]:
    filters = {f"args_kwargs__kwargs__{name}": value for name, value in kwargs.items()}
    return list(
        DBTaskResult.objects.filter(task_path=task.module_path, **filters).order_by("enqueued_at")
    )


def stored_files(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "signed"
    return sorted(folder.iterdir()) if folder.exists() else []


def make_due() -> None:
    """The clock moves on: every waiting retry is due now."""
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())


def completed_event(agreement) -> AuditEvent:
    return AuditEvent.objects.get(agreement=agreement, action=AuditAction.COMPLETED)


# --- Enqueued when the transaction commits ----------------------------------------------


def test_the_completing_signature_enqueues_pdf_and_mail_only_when_it_commits(
    demo_agreement, database_tasks, django_capture_on_commit_callbacks
):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)

    with django_capture_on_commit_callbacks() as callbacks:
        sign_agreement(demo_agreement, Party.SALES)
        assert not DBTaskResult.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()

    [pdf] = rows(signed_pdf_task)
    [completion_mail] = rows(workflow_mail_task, event_id=completed_event(demo_agreement).pk)
    assert pdf.args_kwargs["kwargs"] == {"agreement_id": demo_agreement.pk}
    assert pdf.status == completion_mail.status == TaskResultStatus.READY
    assert pdf.priority > completion_mail.priority  # the PDF first: people wait for it
    assert mail.outbox == []  # the worker sends, not the request


def test_a_signature_that_rolls_back_enqueues_nothing(
    demo_agreement, database_tasks, django_capture_on_commit_callbacks
):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        sign_agreement(demo_agreement, Party.SALES)
        raise RuntimeError("the request fails after the signature")

    assert callbacks == []
    assert Agreement.objects.get(pk=demo_agreement.pk).status == AgreementStatus.AWAITING_SIGNATURES


# --- Retries with back-off -------------------------------------------------------------


def test_the_retry_delays_grow_to_an_hour():
    policy = RetryPolicy()

    delays = [policy.delay(attempt) for attempt in range(1, policy.attempts)]

    assert delays == [datetime.timedelta(seconds=s) for s in (30, 120, 480, 1920, 3600)]


def test_a_failed_pdf_is_retried_after_a_delay_and_stored_once_the_fault_is_mended(
    signed, broken_seal, settings
):
    signed_pdf_task.enqueue(agreement_id=signed.pk)

    run_due_tasks()

    failed, retry = rows(signed_pdf_task)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.exception_class_path == RETRY_SCHEDULED
    assert "missing-key.pem" in failed.traceback  # the cause, under the retry's note
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"] == {"agreement_id": signed.pk, "attempt": 2}
    wait = retry.run_after - failed.finished_at  # the first delay: 30 s
    assert abs(wait - datetime.timedelta(seconds=30)) < datetime.timedelta(seconds=2)
    assert run_due_tasks() == 0  # not before its time
    assert task_state(signed_pdf_task, agreement_id=signed.pk) is TaskState.PENDING

    broken_seal()  # mended
    make_due()
    run_due_tasks()

    agreement = Agreement.objects.get(pk=signed.pk)
    assert DBTaskResult.objects.get(pk=retry.pk).status == TaskResultStatus.SUCCESSFUL
    assert [f.name for f in stored_files(settings)] == [Path(agreement.signed_pdf.name).name]
    assert task_state(signed_pdf_task, agreement_id=signed.pk) is TaskState.SUCCEEDED


def test_after_the_last_attempt_the_failure_is_final_logged_and_shown(
    signed, broken_seal, settings, client, caplog
):
    settings.SLA_TASK_RETRY_DELAY_SECONDS = 0  # every retry due at once
    signed_pdf_task.enqueue(agreement_id=signed.pk)

    run_due_tasks()

    attempts = rows(signed_pdf_task)
    assert len(attempts) == RetryPolicy().attempts == 6
    assert [row.args_kwargs["kwargs"].get("attempt", 1) for row in attempts] == [1, 2, 3, 4, 5, 6]
    assert {row.exception_class_path for row in attempts[:-1]} == {RETRY_SCHEDULED}
    assert attempts[-1].status == TaskResultStatus.FAILED
    assert attempts[-1].exception_class_path == "agreements.archive.SignedPdfError"
    assert "failed for good after 6 attempt(s)" in caplog.text
    assert task_state(signed_pdf_task, agreement_id=signed.pk) is TaskState.FAILED
    client.login(username="management", password="demo")
    page = client.get(reverse("agreement_detail", args=[signed.pk])).text
    assert "Das PDF konnte bisher nicht erstellt werden" in page
    assert "PDF erneut erstellen" in page
    assert "data-pdf-poll" not in page  # nothing to wait for
    assert stored_files(settings) == []


def test_a_timestamp_server_that_is_down_is_retried_until_it_gives_a_real_time(
    signed, ca_seal_settings, timestamp_authority
):
    with timestamp_authority.outage():  # answers 503: no seal without its timestamp
        signed_pdf_task.enqueue(agreement_id=signed.pk)
        run_due_tasks()

    failed, retry = rows(signed_pdf_task)
    assert failed.exception_class_path == RETRY_SCHEDULED
    assert "TimestampUnavailable" in failed.traceback and "gave no timestamp" in failed.traceback
    assert not Agreement.objects.get(pk=signed.pk).signed_pdf  # nothing with a made-up time

    make_due()  # the server answers again by the retry's time
    run_due_tasks()

    agreement = Agreement.objects.get(pk=signed.pk)
    assert DBTaskResult.objects.get(pk=retry.pk).status == TaskResultStatus.SUCCESSFUL
    with agreement.signed_pdf.open("rb") as handle:
        [seal] = PdfFileReader(BytesIO(handle.read())).embedded_signatures
    attributes = [attribute["type"].native for attribute in seal.signer_info["unsigned_attrs"]]
    assert "signature_time_stamp_token" in attributes


def test_a_refused_pdf_fails_at_once_without_retries(signed):
    tamper(Agreement.objects.filter(pk=signed.pk), sql_target=1)  # changed after signing
    signed_pdf_task.enqueue(agreement_id=signed.pk)

    run_due_tasks()

    [attempt] = rows(signed_pdf_task)
    assert attempt.status == TaskResultStatus.FAILED
    assert attempt.exception_class_path == "agreements.archive.SignedPdfRefused"


# --- Each mail once ---------------------------------------------------------------------


def test_a_mail_task_that_runs_twice_sends_each_mail_once(signed):
    event = completed_event(signed)
    workflow_mail_task.enqueue(event_id=event.pk)
    run_due_tasks()
    sent = list(mail.outbox)
    assert sorted(m.to[0] for m in sent) == [
        "management@muster.example",
        "marketing@muster.example",
        "sales@muster.example",
    ]

    workflow_mail_task.enqueue(event_id=event.pk)  # a second run, as after a worker died
    run_due_tasks()

    assert len(mail.outbox) == len(sent)
    ledger = MailDelivery.objects.filter(agreement=signed)
    assert sorted(ledger.values_list("address", flat=True)) == sorted(m.to[0] for m in sent)
    assert {m.extra_headers["Message-ID"] for m in sent} == set(
        ledger.values_list("message_id", flat=True)
    )
    assert all(event.hash in m.body for m in sent)  # the audit head, in each completion mail


def test_a_recipient_the_mail_server_refused_gets_the_mail_from_the_retry_and_no_one_twice(
    signed, settings
):
    server = MailServer()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        settings.SLA_TASK_RETRY_DELAY_SECONDS = 0
        server.handler.refuse_once.add("sales@muster.example")  # greylisted once
        workflow_mail_task.enqueue(event_id=completed_event(signed).pk)

        run_due_tasks()

        first, retry = rows(workflow_mail_task)
        assert first.exception_class_path == RETRY_SCHEDULED
        assert "SMTPRecipientsRefused" in first.traceback
        assert retry.status == TaskResultStatus.SUCCESSFUL
        addresses = sorted(address for m in server.accepted for address in m.to)
        assert addresses == [
            "management@muster.example",
            "marketing@muster.example",
            "sales@muster.example",
        ]
    finally:
        server.stop()


# --- Tasks of dead workers ---------------------------------------------------------------


def dead_worker_id() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{HOST}:{process.pid}:gone"


def running_pdf_task(agreement, *, worker: str) -> DBTaskResult:
    """A PDF task claimed by ``worker``, as the worker loop claims it."""
    signed_pdf_task.enqueue(agreement_id=agreement.pk)
    row = DBTaskResult.objects.ready().get()
    row.claim(worker)
    return row


def test_worker_ids_tell_a_dead_worker_from_a_live_one():
    assert worker_alive(f"{HOST}:{os.getpid()}:me") is True
    assert worker_alive(dead_worker_id()) is False
    assert worker_alive("another-host:1:x") is None
    assert worker_alive("a-random-id-of-db-worker") is None


def test_the_task_of_a_dead_worker_goes_back_to_the_queue_and_runs_once_more(signed, settings):
    row = running_pdf_task(signed, worker=dead_worker_id())

    report = tasks_recover()

    row.refresh_from_db()
    assert report.requeued == 1
    assert row.status == TaskResultStatus.READY
    assert row.exception_class_path == WORKER_LOST
    assert "stopped while running this task" in row.traceback
    assert task_state(signed_pdf_task, agreement_id=signed.pk) is TaskState.PENDING
    run_due_tasks()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and len(row.worker_ids) == 2
    assert len(stored_files(settings)) == 1


def test_a_live_worker_keeps_its_task_until_the_lease_runs_out(signed, settings):
    row = running_pdf_task(signed, worker=f"{HOST}:{os.getpid()}:me")
    elsewhere = DBTaskResult.objects.get(pk=row.pk)
    lease = datetime.timedelta(seconds=settings.SLA_TASK_LEASE_SECONDS)

    assert tasks_recover().requeued == 0
    assert tasks_recover(now=timezone.now() + lease / 2).requeued == 0
    report = tasks_recover(now=timezone.now() + lease + datetime.timedelta(seconds=1))

    elsewhere.refresh_from_db()
    assert report.requeued == 1 and elsewhere.status == TaskResultStatus.READY
    assert "without finishing" in elsewhere.traceback


def test_a_worker_on_another_host_is_given_its_lease(signed, settings):
    row = running_pdf_task(signed, worker="worker-2.example:4242:abcdefgh")
    lease = datetime.timedelta(seconds=settings.SLA_TASK_LEASE_SECONDS)

    assert tasks_recover().requeued == 0
    assert tasks_recover(now=row.started_at + lease + datetime.timedelta(seconds=1)).requeued == 1


def test_a_task_that_kills_its_workers_fails_for_good(signed, caplog):
    row = running_pdf_task(signed, worker=dead_worker_id())
    for _ in range(MAX_WORKER_DEATHS - 1):
        tasks_recover()
        row = DBTaskResult.objects.ready().get()
        row.claim(dead_worker_id())

    report = tasks_recover()

    row.refresh_from_db()
    assert report.failed == 1
    assert row.status == TaskResultStatus.FAILED and row.exception_class_path == WORKER_LOST
    assert "Given up after 3 workers" in row.traceback
    assert task_state(signed_pdf_task, agreement_id=signed.pk) is TaskState.FAILED
    assert "failed for good" in caplog.text


# --- Work whose enqueue was lost ---------------------------------------------------------


def test_work_without_a_task_is_enqueued_once(signed):
    # The commit happened, the enqueue after it did not (the test never commits): the
    # demo's 2026 SLA and this one are signed without PDF, their events without mail.
    later = timezone.now() + datetime.timedelta(minutes=1)

    report = tasks_recover(now=later)

    unstored = set(Agreement.objects.signed().values_list("pk", flat=True))
    mail_events = set(
        AuditEvent.objects.filter(
            action__in=[AuditAction.SUBMITTED, AuditAction.COMPLETED]
        ).values_list("pk", flat=True)
    )
    assert {r.args_kwargs["kwargs"]["agreement_id"] for r in rows(signed_pdf_task)} == unstored
    assert {r.args_kwargs["kwargs"]["event_id"] for r in rows(workflow_mail_task)} == mail_events
    assert report.enqueued == len(unstored) + len(mail_events)
    assert tasks_recover(now=later).enqueued == 0  # now every piece of work has its task


def test_lost_invitation_and_mention_mails_are_enqueued_once_and_sent_once(
    demo_agreement, database_tasks
):
    from agreements.negotiation.comments import thread_open
    from agreements.negotiation.mails import mention_mail_task
    from agreements.team import domain
    from agreements.team.tasks import invitation_mail_task

    organisation = demo_agreement.organisation
    people = {m.role: m.user for m in Membership.objects.filter(organisation=organisation)}
    administrator = people[Role.MANAGEMENT]
    # Committed in a request that died before its enqueue (the test never commits).
    lea = domain.invitation_create(
        organisation=organisation, email="lea@muster.example", role=Role.SALES, actor=administrator
    )
    tom = domain.invitation_create(
        organisation=organisation, email="tom@muster.example", role=Role.SALES, actor=administrator
    )
    domain.invitation_revoke(invitation=tom, actor=administrator)
    thread = thread_open(
        agreement=demo_agreement, section="7", user=people[Role.SALES], body="@anna.keller 65?"
    )
    comment = thread.comments.get()
    later = timezone.now() + datetime.timedelta(minutes=1)

    tasks_recover(now=later)

    assert [r.args_kwargs["kwargs"]["invitation_id"] for r in rows(invitation_mail_task)] == [
        lea.pk  # not the revoked one
    ]
    assert [
        (r.args_kwargs["kwargs"]["comment_id"], r.args_kwargs["kwargs"]["user_id"])
        for r in rows(mention_mail_task)
    ] == [(comment.pk, people[Role.MARKETING].pk)]
    assert tasks_recover(now=later).enqueued == 0
    # A resend is a new link, whose mail is due again once its own enqueue is lost.
    domain.invitation_resend(invitation=lea, actor=administrator)
    assert tasks_recover(now=timezone.now() + datetime.timedelta(minutes=1)).enqueued == 1

    while run_due_tasks():
        pass
    to = [message.to[0] for message in mail.outbox]
    assert to.count("lea@muster.example") == 1  # both tasks, one mail: its current link
    mentions = [m for m in mail.outbox if "erwähnt" in m.subject]
    assert [m.to for m in mentions] == [["marketing@muster.example"]]


def test_work_of_the_last_seconds_is_left_to_its_own_enqueue(signed):
    assert tasks_recover().enqueued == 0


def test_tasks_recover_fails_loudly_while_a_pdf_task_has_failed_for_good(
    signed, broken_seal, settings, capsys
):
    settings.SLA_TASK_RETRY_DELAY_SECONDS = 0
    signed_pdf_task.enqueue(agreement_id=signed.pk)
    run_due_tasks()

    with pytest.raises(CommandError, match="1 signed PDFs are missing"):
        call_command("tasks_recover")

    assert (
        f"Agreement {signed.pk}: the task storing its signed PDF failed" in capsys.readouterr().err
    )


# --- The admin ------------------------------------------------------------------------


def test_staff_see_final_failures_and_enqueue_them_again(signed, broken_seal, settings, client):
    settings.SLA_TASK_RETRY_DELAY_SECONDS = 0
    signed_pdf_task.enqueue(agreement_id=signed.pk)
    run_due_tasks()
    final = rows(signed_pdf_task)[-1]
    client.login(username="admin", password="demo")
    url = reverse("admin:django_tasks_database_dbtaskresult_changelist")

    listing = client.get(url, {"outcome": "failed"})
    response = client.post(
        url, {"action": "retry", "_selected_action": [row.pk for row in rows(signed_pdf_task)]}
    )

    assert listing.status_code == 200
    outcomes = re.findall(r'<td class="field-outcome">([^<]*)</td>', listing.text)
    assert outcomes == ["Endgültig fehlgeschlagen"]  # not the five attempts retried
    assert f'<td class="field-work">agreement_id={signed.pk}</td>' in listing.text
    assert response.status_code == 302
    again = rows(signed_pdf_task)[-1]
    assert again.pk != final.pk and again.status == TaskResultStatus.READY
    assert again.args_kwargs["kwargs"] == {"agreement_id": signed.pk, "attempt": 1}
    assert len(rows(signed_pdf_task)) == 7  # only the final failure was enqueued again


def test_staff_see_the_sent_mails(signed, client):
    workflow_mail_task.enqueue(event_id=completed_event(signed).pk)
    run_due_tasks()
    client.login(username="admin", password="demo")

    response = client.get(reverse("admin:agreements_maildelivery_changelist"))

    assert response.status_code == 200
    assert "management@muster.example" in response.text
    assert client.get(reverse("admin:agreements_maildelivery_add")).status_code == 403


def test_members_do_not_get_into_the_task_admin(signed, client):
    client.login(username="management", password="demo")
    url = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    assert client.get(url).status_code == 302  # to the admin's login


# --- The agreement page while the PDF is made ------------------------------------------


def test_the_page_says_the_pdf_is_being_made_and_offers_it_once_stored(signed, client):
    signed_pdf_task.enqueue(agreement_id=signed.pk)
    client.login(username="management", password="demo")
    detail = reverse("agreement_detail", args=[signed.pk])
    state = reverse("agreement_pdf_state", args=[signed.pk])

    waiting = client.get(detail).text
    fragment = client.get(state)
    run_due_tasks()
    ready = client.get(state)

    assert "PDF wird erstellt" in waiting
    assert f'data-pdf-poll="{state}"' in waiting and "js/pdf-state.js" in waiting
    assert 'data-pdf-state="pending"' in fragment.text
    assert "no-store" in fragment["Cache-Control"]
    assert 'data-pdf-state="stored"' in ready.text and "PDF herunterladen" in ready.text
    page = client.get(detail).text
    assert "PDF herunterladen" in page and "js/pdf-state.js" not in page


def test_a_download_before_the_pdf_is_stored_says_so_and_enqueues_one_task(signed, client):
    client.login(username="marketing", password="demo")
    url = reverse("agreement_pdf", args=[signed.pk])

    first = client.get(url)
    second = client.get(url)

    for response in (first, second):
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert "Das PDF wird erstellt" in response.text
    assert len(rows(signed_pdf_task, agreement_id=signed.pk)) == 1
    assert not AuditEvent.objects.filter(agreement=signed, action=AuditAction.PDF_DOWNLOADED)
    run_due_tasks()
    assert client.get(url).status_code == 200


# --- Storage faults --------------------------------------------------------------------


def test_a_media_folder_that_cannot_be_written_is_retried_and_leaves_no_file(
    signed, settings, tmp_path, client
):
    media = settings.MEDIA_ROOT
    blocked = tmp_path / "media-blocked"
    blocked.write_text("a file where the folder should be")  # mkdir fails, even as root
    settings.MEDIA_ROOT = blocked
    signed_pdf_task.enqueue(agreement_id=signed.pk)

    run_due_tasks()

    failed, retry = rows(signed_pdf_task)
    assert failed.exception_class_path == RETRY_SCHEDULED
    assert "not stored" in failed.traceback
    assert retry.status == TaskResultStatus.READY
    assert not Agreement.objects.get(pk=signed.pk).signed_pdf
    assert blocked.read_text() == "a file where the folder should be"
    client.login(username="management", password="demo")
    response = client.get(reverse("agreement_pdf", args=[signed.pk]))
    assert response.status_code == 503 and "Das PDF wird erstellt" in response.text

    settings.MEDIA_ROOT = media
    make_due()
    run_due_tasks()
    assert client.get(reverse("agreement_pdf", args=[signed.pk])).status_code == 200


def test_a_full_disk_leaves_neither_a_partial_nor_a_temporary_file(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    (tmp_path / "signed").mkdir()
    # Writing the temporary file writes to /dev/full: ENOSPC from the kernel, as on a full disk.
    (tmp_path / "signed" / ".doc.pdf.part").symlink_to("/dev/full")

    with pytest.raises(OSError, match="No space left"):
        archive.storage_save_whole(storage, "signed/doc.pdf", b"%PDF-1.7 " * 1000)

    assert list((tmp_path / "signed").iterdir()) == []


def test_a_file_left_by_an_attempt_that_died_before_its_commit_is_replaced(signed, settings):
    # The crashed attempt renamed its file into place but never recorded it.
    leftover = Path(settings.MEDIA_ROOT) / archive.signed_pdf_name(signed)
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"%PDF- from an attempt that died")

    agreement = archive.signed_pdf_store(agreement_id=signed.pk)

    [only] = stored_files(settings)
    assert only == leftover and agreement.signed_pdf.name == archive.signed_pdf_name(signed)
    assert hashlib.sha256(only.read_bytes()).hexdigest() == agreement.signed_pdf_sha256


def test_a_stored_pdf_the_storage_cannot_read_gives_the_503_page(signed, settings, client):
    agreement = archive.signed_pdf_store(agreement_id=signed.pk)
    path = Path(settings.MEDIA_ROOT) / agreement.signed_pdf.name
    path.unlink()
    path.mkdir()  # reading it fails with an OSError that is not "missing"
    client.login(username="management", password="demo")

    response = client.get(reverse("agreement_pdf", args=[signed.pk]))

    assert response.status_code == 503
    assert "Dokumentenspeicher" in response.text
    assert not AuditEvent.objects.filter(agreement=signed, action=AuditAction.PDF_DOWNLOADED)
