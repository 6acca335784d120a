"""Evidence over the years: B-LT seals on completion, archive timestamps (B-LTA), their checks.

The demo's 2026 SLA is sealed with a seal certificate from the tests' CA, timestamped by a
real RFC 3161 server (``openssl ts``, conftest's ``timestamp_authority``) and carries their
validation data. ``add_archive_timestamps`` then renews it; downloads serve the newest
version, the verify page knows every version, and ``verify_audit`` checks them all.
"""

import datetime
import importlib
import logging
import shutil
import time
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader

from agreements.archive import SignedPdfMismatch
from agreements.demo import load_demo, signed_demo_agreement
from agreements.enums import AuditAction
from agreements.evidence.archive_timestamps import (
    archive_timestamp_add,
    archive_timestamps_due,
    signed_pdf_newest,
)
from agreements.evidence.checks import pdf_evidence_read
from agreements.evidence.models import ArchiveTimestamp
from agreements.models import AuditEvent
from agreements.pdf import render_agreement_pdf
from agreements.seal import TimestampUnavailable, seal_pdf
from tests.test_verify import checks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pdftotext", "pdfsig")),
        reason="poppler-utils missing (`make browsers` installs them)",
    ),
]


@pytest.fixture
def sealed_demo(ca_seal_settings, signed_demo):
    """The signed demo SLA, its PDF sealed on completion with the settings above."""
    return signed_demo


def stored(file) -> bytes:
    with file.open("rb") as handle:
        return handle.read()


def verify(client, content: bytes):
    upload = SimpleUploadedFile("SLA.pdf", content, content_type="application/pdf")
    return client.post(reverse("pdf_verify"), {"pdf": upload})


def test_a_pdf_sealed_on_completion_is_b_lt_and_the_page_says_so(client, sealed_demo):
    client.login(username="management", password="demo")
    pdf = stored(sealed_demo.signed_pdf)
    assert "/DSS" in PdfFileReader(BytesIO(pdf)).root  # validation data inside

    response = verify(client, pdf)

    found = checks(response)
    assert "Authentisch" in response.text
    assert found["Siegel"].startswith("erfüllt:") and "SLA-Portal Test-CA" in found["Siegel"]
    assert found["Zertifizierung"] == (
        "erfüllt: Zertifiziert, keine Änderungen erlaubt: nach dem Siegel folgen nur "
        "Validierungsdaten und Archivzeitstempel, die die Zertifizierung zulässt."
    )
    assert found["Zeitstempel"].startswith(
        "erfüllt: Der Zeitstempeldienst „SLA-Portal Test-Zeitstempeldienst“ bestätigt: "
        "versiegelt am "
    )


def test_an_archive_timestamp_is_stored_as_a_new_version_and_recorded(sealed_demo):
    original = stored(sealed_demo.signed_pdf)

    stamp = archive_timestamp_add(agreement_id=sealed_demo.pk)

    renewed = stored(stamp.pdf)
    assert renewed.startswith(original)  # the sealed PDF, with revisions appended
    assert stored(sealed_demo.signed_pdf) == original  # the stored original stays
    assert stamp.timestamp_authority == "SLA-Portal Test-Zeitstempeldienst"
    assert abs(stamp.timestamped_at - stamp.created_at) < datetime.timedelta(minutes=2)
    [event] = AuditEvent.objects.filter(
        agreement=sealed_demo, action=AuditAction.ARCHIVE_TIMESTAMP_ADDED
    )
    assert event.details["sha256"] == stamp.pdf_sha256
    assert event.details["previous_sha256"] == sealed_demo.signed_pdf_sha256
    assert signed_pdf_newest(sealed_demo).archive_timestamp == stamp
    # A second renewal builds on the first.
    second = archive_timestamp_add(agreement_id=sealed_demo.pk)
    assert stored(second.pdf).startswith(renewed)
    assert len(PdfFileReader(BytesIO(stored(second.pdf))).embedded_timestamp_signatures) == 2


def test_the_download_serves_the_newest_version_and_every_version_verifies(client, sealed_demo):
    original = stored(sealed_demo.signed_pdf)
    stamp = archive_timestamp_add(agreement_id=sealed_demo.pk)
    client.login(username="management", password="demo")

    response = client.get(reverse("agreement_pdf", args=[sealed_demo.pk]))
    served = b"".join(response.streaming_content)

    assert served == stored(stamp.pdf)
    download = AuditEvent.objects.filter(
        agreement=sealed_demo, action=AuditAction.PDF_DOWNLOADED
    ).latest("sequence")
    assert download.details["sha256"] == stamp.pdf_sha256
    newest, before = checks(verify(client, served)), checks(verify(client, original))
    assert newest["Datei"].startswith("erfüllt:") and "Archivzeitstempel" in newest["Datei"]
    assert newest["Archivzeitstempel"].startswith("erfüllt: Ein Archivzeitstempel vom ")
    assert "„SLA-Portal Test-Zeitstempeldienst“ hält Siegel" in newest["Archivzeitstempel"]
    assert newest["Zertifizierung"].startswith("erfüllt:")
    assert before["Datei"].startswith("erfüllt:")  # a copy from before the renewal
    assert "Archivzeitstempel" not in before


def test_a_changed_version_is_never_renewed_and_verify_audit_finds_it(sealed_demo, settings):
    stamp = archive_timestamp_add(agreement_id=sealed_demo.pk)
    path = Path(settings.MEDIA_ROOT) / stamp.pdf.name
    path.write_bytes(path.read_bytes() + b"\n")

    with pytest.raises(CommandError, match="1 of 2 signed PDFs are missing or changed"):
        call_command("verify_audit", stdout=StringIO())
    with pytest.raises(SignedPdfMismatch, match="does not match its SHA-256"):
        archive_timestamp_add(agreement_id=sealed_demo.pk)
    assert ArchiveTimestamp.objects.filter(agreement=sealed_demo).count() == 1


def test_a_failed_timestamp_server_stores_nothing(sealed_demo, timestamp_authority):
    with timestamp_authority.outage(), pytest.raises(TimestampUnavailable):
        archive_timestamp_add(agreement_id=sealed_demo.pk)

    assert not ArchiveTimestamp.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ARCHIVE_TIMESTAMP_ADDED).exists()


def test_a_timestamp_server_that_is_down_at_completion_delays_the_pdf_never_fakes_its_time(
    ca_seal_settings, timestamp_authority, django_capture_on_commit_callbacks, client, caplog
):
    with (
        timestamp_authority.outage(),
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
    ):
        load_demo()  # the second signature completes the 2026 SLA
        agreement = signed_demo_agreement()
        client.login(username="management", password="demo")
        unavailable = client.get(reverse("agreement_pdf", args=[agreement.pk]))

    agreement.refresh_from_db()
    assert not agreement.signed_pdf  # nothing stored without its timestamp...
    assert unavailable.status_code == 503  # ...nothing served, and said so
    assert "gave no timestamp" in caplog.text  # logged, for the operator

    # The server answers again: the next download seals and stores, with its real time.
    response = client.get(reverse("agreement_pdf", args=[agreement.pk]))
    pdf = b"".join(response.streaming_content)
    [seal] = PdfFileReader(BytesIO(pdf)).embedded_signatures
    attributes = [attribute["type"].native for attribute in seal.signer_info["unsigned_attrs"]]
    assert response.status_code == 200 and "signature_time_stamp_token" in attributes


def test_a_seal_whose_certificate_expired_since_holds_through_its_timestamp(
    settings, tmp_path, timestamp_authority, demo_agreement
):
    """Years later the seal's certificate has expired: the timestamp shows it was valid."""
    pdf = render_agreement_pdf(demo_agreement)
    timestamp_authority.configure_seal(
        settings,
        tmp_path / "seal.p12",
        "SLA-Portal Siegel (abgelaufen)",
        valid_for=datetime.timedelta(seconds=5),
    )
    with_time = seal_pdf(pdf)
    settings.SLA_SEAL_TIMESTAMP_URL = None
    without_time = seal_pdf(pdf)
    [seal] = PdfFileReader(BytesIO(with_time)).embedded_signatures
    expiry = seal.signer_cert.not_valid_after
    time.sleep(max(0, (expiry - datetime.datetime.now(datetime.UTC)).total_seconds()) + 1.5)

    held = {check.title: check for check in pdf_evidence_read(BytesIO(with_time)).checks}
    lapsed = {check.title: check for check in pdf_evidence_read(BytesIO(without_time)).checks}

    assert held["Siegel"].passed, held["Siegel"].explanation
    assert held["Zeitstempel"].passed
    assert lapsed["Siegel"].failed
    assert "ist am" in lapsed["Siegel"].explanation
    assert "abgelaufen, und kein gültiger Zeitstempel" in lapsed["Siegel"].explanation


# --- manage.py add_archive_timestamps ------------------------------------------------------


def test_a_pdf_sealed_without_a_timestamp_is_due_and_renewed_once(
    settings, signed_demo, timestamp_authority
):
    """Sealed B-B (no timestamp server then): the first archive timestamp gives it a time."""
    settings.SLA_SEAL_TIMESTAMP_URL = timestamp_authority.url
    settings.SLA_SEAL_TRUST_ROOTS_FILE = str(timestamp_authority.ca_cert_file)
    assert archive_timestamps_due(renew_within=datetime.timedelta(days=365)) == [signed_demo.pk]
    output = StringIO()

    call_command("add_archive_timestamps", stdout=output)

    assert f"Agreement {signed_demo.pk}: archive timestamp of" in output.getvalue()
    assert "1 archive timestamp(s) added." in output.getvalue()
    # The test TSA's certificate runs five years: not due again within one...
    assert archive_timestamps_due(renew_within=datetime.timedelta(days=365)) == []
    # ...but within six, and --agreement renews now whatever is due.
    assert archive_timestamps_due(renew_within=datetime.timedelta(days=6 * 365)) == [signed_demo.pk]
    call_command("add_archive_timestamps", "--agreement", str(signed_demo.pk), stdout=StringIO())
    assert ArchiveTimestamp.objects.filter(agreement=signed_demo).count() == 2


def test_the_command_fails_visibly_when_the_timestamp_server_does(sealed_demo, timestamp_authority):
    errors = StringIO()

    with timestamp_authority.outage(), pytest.raises(CommandError) as failed:
        call_command(
            "add_archive_timestamps",
            "--agreement",
            str(sealed_demo.pk),
            stdout=StringIO(),
            stderr=errors,
        )

    assert "1 of 1 archive timestamps failed" in str(failed.value)
    assert failed.value.returncode == 1
    assert "gave no timestamp" in errors.getvalue() and "try again later" in errors.getvalue()
    assert not ArchiveTimestamp.objects.exists()


def test_the_command_needs_a_timestamp_server(signed_demo):
    with pytest.raises(CommandError, match="SLA_SEAL_TIMESTAMP_URL"):
        call_command("add_archive_timestamps", stdout=StringIO())


# --- Append-only ---------------------------------------------------------------------------


def test_a_stored_version_is_never_changed_through_the_orm(sealed_demo):
    stamp = archive_timestamp_add(agreement_id=sealed_demo.pk)
    stamp.pdf_sha256 = "0" * 64

    with pytest.raises(ValueError, match="append-only"):
        stamp.save()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the trigger exists on PostgreSQL only; SQLite is for development",
)
def test_raw_sql_cannot_change_or_delete_a_stored_version(sealed_demo):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'evidence_archivetimestamp_append_only'"
        )
        if cursor.fetchone() is None:  # tests run without migrations: install it here
            migration = importlib.import_module(
                "agreements.evidence.migrations.0001_archive_timestamps"
            )
            cursor.execute(migration.CREATE_SQL)
    stamp = archive_timestamp_add(agreement_id=sealed_demo.pk)

    for statement in (
        "UPDATE evidence_archivetimestamp SET pdf_sha256 = '0' WHERE id = %s",
        "DELETE FROM evidence_archivetimestamp WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [stamp.pk])

    assert ArchiveTimestamp.objects.get(pk=stamp.pk).pdf_sha256 == stamp.pdf_sha256
