"""The signed PDF served as stored (agreements.download), and a draft's preview.

Downloads stream the stored bytes after their check and are audited; a changed or
missing file is refused, a PDF not stored yet is made by its task, never in the request.
"""

import hashlib
import logging
import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.management.commands.verify_audit import Command as VerifyAudit
from agreements.models import Agreement
from agreements.pdf import PdfRenderError, render_agreement_pdf
from tests.factories import make_member, make_organisation, sign_agreement, submit_agreement
from tests.test_archive import events, pdfsig, stored_bytes, stored_path
from tests.test_pdf import poppler, squeeze

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pdftotext", "pdfsig")),
        reason="poppler-utils missing (`make browsers` installs them)",
    ),
]

DOWNLOAD_NAME = "SLA_Muster-AG_2026_unterzeichnet.pdf"


def download(client, agreement, **headers):
    response = client.get(reverse("agreement_pdf", args=[agreement.pk]), headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


# --- Download -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["marketing", "sales", "management"])
def test_members_download_the_stored_bytes_and_the_download_is_audited(
    client, signed_demo, settings, username
):
    client.login(username=username, password="demo")

    response, body = download(client, signed_demo, user_agent="Firefox/140.0 (pytest)")

    assert response.status_code == 200
    assert response.streaming  # streamed from storage, not read into memory
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{DOWNLOAD_NAME}"'
    assert "no-store" in response["Cache-Control"]
    assert body == stored_bytes(signed_demo, settings)
    [event] = events(signed_demo, AuditAction.PDF_DOWNLOADED)
    assert event.actor.username == username
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "Firefox/140.0 (pytest)"
    assert event.details == {"sha256": signed_demo.signed_pdf_sha256}


def test_outsiders_get_404_and_anonymous_visitors_the_login(client, signed_demo):
    url = reverse("agreement_pdf", args=[signed_demo.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"

    client.force_login(make_member(make_organisation(), Role.MANAGEMENT))
    assert client.get(url).status_code == 404
    client.login(username="admin", password="demo")  # staff, but no member
    assert client.get(url).status_code == 404
    assert events(signed_demo, AuditAction.PDF_DOWNLOADED) == []


def test_a_second_download_serves_the_same_bytes_without_rendering(
    client, signed_demo, settings, tmp_path
):
    client.login(username="management", password="demo")
    _, first = download(client, signed_demo)
    # From here on nothing can be rendered or sealed: no static files, no seal key.
    settings.STATICFILES_DIRS = []
    settings.STATIC_ROOT = tmp_path
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"
    with pytest.raises(PdfRenderError):
        render_agreement_pdf(signed_demo)

    response, second = download(client, signed_demo)

    assert response.status_code == 200
    assert second == first
    assert len(events(signed_demo, AuditAction.PDF_STORED)) == 1
    assert len(events(signed_demo, AuditAction.PDF_DOWNLOADED)) == 2


def test_a_changed_stored_file_is_refused_and_logged(client, signed_demo, settings, caplog):
    path = stored_path(signed_demo, settings)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    client.login(username="management", password="demo")

    with caplog.at_level(logging.ERROR, logger="agreements.archive"):
        response, body = download(client, signed_demo)

    assert response.status_code == 409
    assert b"%PDF" not in body
    assert "Prüfsumme" in body.decode()
    assert "does not match its SHA-256" in caplog.text
    assert events(signed_demo, AuditAction.PDF_DOWNLOADED) == []


def test_a_file_changed_after_a_good_download_is_refused_even_with_its_old_times(
    client, signed_demo, settings
):
    client.login(username="management", password="demo")
    assert download(client, signed_demo)[0].status_code == 200  # hashed and found intact
    path = stored_path(signed_demo, settings)
    before = path.stat()
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    # Same size, and the modification time set back: only the inode's change time moved.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    response, body = download(client, signed_demo)

    assert response.status_code == 409
    assert b"%PDF" not in body
    assert len(events(signed_demo, AuditAction.PDF_DOWNLOADED)) == 1


def test_verify_audit_reports_a_changed_stored_pdf(signed_demo, settings, capsys):
    path = stored_path(signed_demo, settings)
    content = bytearray(path.read_bytes())
    content[-100] ^= 0x01
    path.write_bytes(bytes(content))

    with pytest.raises(SystemExit) as exit_info:
        VerifyAudit().run_from_argv(["manage.py", "verify_audit"])

    assert exit_info.value.code == 1
    output = capsys.readouterr()
    assert f"Agreement {signed_demo.pk}" in output.out
    assert "does not match its SHA-256" in output.out
    assert "1 of 1 signed PDFs are missing or changed" in output.err


def test_a_missing_stored_file_is_refused_and_logged(client, signed_demo, settings, caplog):
    stored_path(signed_demo, settings).unlink()
    client.login(username="marketing", password="demo")

    with caplog.at_level(logging.ERROR, logger="agreements.archive"):
        response, _ = download(client, signed_demo)

    assert response.status_code == 409
    assert "missing" in caplog.text


def test_when_the_pdf_task_has_failed_a_download_runs_it_again(
    client, demo_agreement, settings, tmp_path, caplog,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    key_file = settings.SLA_SEAL_KEY_FILE
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.ERROR):
        sign_agreement(demo_agreement, Party.SALES)
    agreement = Agreement.objects.get(pk=demo_agreement.pk)
    assert agreement.status == AgreementStatus.SIGNED  # the signing stands
    assert not agreement.signed_pdf
    assert "Task signed_pdf_task" in caplog.text and "failed for good" in caplog.text
    assert "missing-key.pem" in caplog.text  # the reason, in the logged traceback

    settings.SLA_SEAL_KEY_FILE = key_file
    client.login(username="management", password="demo")
    response, body = download(client, agreement)

    agreement.refresh_from_db()
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="SLA_Muster-AG_2027_unterzeichnet.pdf"'
    )
    assert body == stored_bytes(agreement, settings)
    assert hashlib.sha256(body).hexdigest() == agreement.signed_pdf_sha256
    assert "Signature is Valid." in pdfsig(stored_path(agreement, settings))
    assert len(events(agreement, AuditAction.PDF_STORED)) == 1


def test_a_failing_render_on_download_shows_an_error_page(
    client, demo_agreement, settings, tmp_path, caplog
):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    sign_agreement(demo_agreement, Party.SALES)  # the hook never runs: no commit in a test
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"
    client.login(username="management", password="demo")

    with caplog.at_level(logging.ERROR, logger="agreements.tasks.engine"):
        response, _ = download(client, demo_agreement)

    assert response.status_code == 503
    assert "konnte nicht erstellt werden" in response.text
    assert "failed for good" in caplog.text
    assert events(demo_agreement, AuditAction.PDF_DOWNLOADED) == []


# --- Draft preview ------------------------------------------------------------------------


@pytest.mark.parametrize("submitted", [False, True], ids=["draft", "awaiting_signatures"])
def test_before_signing_the_pdf_is_an_unsealed_unstored_preview(
    client, demo_agreement, settings, tmp_path, submitted
):
    if submitted:
        submit_agreement(demo_agreement)
    client.login(username="management", password="demo")

    response, body = download(client, demo_agreement)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert 'filename="SLA_Muster-AG_2027_Entwurf.pdf"' in response["Content-Disposition"]
    assert "ENTWURF" in squeeze(poppler("pdftotext", body, "-raw", "-f", "1", "-l", "1"))
    assert "Prüfprotokoll" not in poppler("pdftotext", body)
    preview = tmp_path / "preview.pdf"
    preview.write_bytes(body)
    assert "does not contain any signatures" in pdfsig(preview)
    assert not (Path(settings.MEDIA_ROOT) / "signed").exists()
    assert not Agreement.objects.get(pk=demo_agreement.pk).signed_pdf
    assert events(demo_agreement, AuditAction.PDF_DOWNLOADED) == []


def test_the_agreement_page_offers_the_pdf_or_its_preview(client, signed_demo, demo_agreement):
    client.login(username="management", password="demo")
    signed_page = client.get(reverse("agreement_detail", args=[signed_demo.pk])).text
    draft_page = client.get(reverse("agreement_detail", args=[demo_agreement.pk])).text

    pdf_link = f'href="{reverse("agreement_pdf", args=[signed_demo.pk])}"'
    assert pdf_link in signed_page and "PDF herunterladen" in signed_page
    assert f'href="{reverse("agreement_pdf", args=[demo_agreement.pk])}"' in draft_page
    assert "PDF-Vorschau (Entwurf)" in draft_page
