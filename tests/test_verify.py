"""Is this PDF an authentic signed SLA? The verify page and the verify_pdf / export_pdf commands.

Authentic means byte for byte the sealed PDF the portal stored when the agreement was
signed: one flipped or appended byte makes it "nicht authentisch".
"""

import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from agreements.document import swiss_date
from agreements.enums import Role
from agreements.forms import VERIFY_MAX_BYTES
from tests.factories import make_member, make_organisation, make_pdf
from tests.test_pdf import poppler, squeeze

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pdftotext", "pdfsig")),
        reason="poppler-utils missing (`make browsers` installs them)",
    ),
]


def stored_bytes(agreement, settings) -> bytes:
    return (Path(settings.MEDIA_ROOT) / agreement.signed_pdf.name).read_bytes()


def flipped(content: bytes, position: int | None = None) -> bytes:
    changed = bytearray(content)
    changed[len(content) // 2 if position is None else position] ^= 0x01
    return bytes(changed)


def verify(client, content: bytes, name="SLA.pdf"):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(reverse("pdf_verify"), {"pdf": upload})


def visible(response) -> str:
    return " ".join(response.text.split())


# --- The page -----------------------------------------------------------------------------


def test_the_stored_pdf_is_authentic_and_names_agreement_parties_and_dates(
    client, signed_demo, settings
):
    client.login(username="management", password="demo")

    response = verify(client, stored_bytes(signed_demo, settings))

    assert response.status_code == 200
    text = visible(response)
    assert "Authentisch" in text and "Nicht authentisch" not in text
    assert "SLA der Muster AG für den Zeitraum 01.01.2026–31.12.2026." in text
    today = swiss_date(timezone.localdate())
    assert (
        f"Für Marketing unterzeichnet von Anna Keller am {today} (Leiterin Inbound Marketing)"
        in (text)
    )
    assert f"Für Sales unterzeichnet von Marco Brunner am {today} (Leiter Inbound Sales)" in text
    assert signed_demo.signed_pdf_sha256 in text
    assert reverse("agreement_detail", args=[signed_demo.pk]) in text


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda pdf: flipped(pdf), id="a flipped byte in the middle"),
        pytest.param(lambda pdf: flipped(pdf, 5), id="a flipped byte of the header"),
        pytest.param(lambda pdf: flipped(pdf, -1), id="a flipped last byte"),
        pytest.param(lambda pdf: pdf + b"\n", id="an appended line end"),
        pytest.param(lambda pdf: pdf[:-1], id="the last byte cut"),
    ],
)
def test_any_changed_byte_is_not_authentic(client, signed_demo, settings, change):
    client.login(username="sales", password="demo")

    response = verify(client, change(stored_bytes(signed_demo, settings)))

    assert response.status_code == 200
    text = visible(response)
    assert "Nicht authentisch" in text
    assert "Anna Keller" not in text and "01.01.2026" not in text


def test_a_pdf_the_portal_never_stored_is_not_authentic(client, signed_demo):
    client.login(username="marketing", password="demo")
    assert "Nicht authentisch" in visible(verify(client, make_pdf()))


def test_other_files_are_refused_before_any_lookup(client, signed_demo, settings):
    client.login(username="marketing", password="demo")

    not_pdf = verify(client, b"<html>" + stored_bytes(signed_demo, settings))
    empty = verify(client, b"")

    assert not_pdf.status_code == 422 and "Die Datei ist kein PDF." in not_pdf.text
    assert empty.status_code == 422
    assert 'id="verify-result"' not in not_pdf.text


def test_files_above_25_mb_are_refused(client, signed_demo):
    client.login(username="marketing", password="demo")

    response = verify(client, b"%PDF-1.7\n" + b"0" * (VERIFY_MAX_BYTES - 8))

    assert response.status_code == 422
    assert "Die Datei ist grösser als 25 MB." in response.text


def test_someone_from_another_organisation_learns_only_what_the_file_says(
    client, signed_demo, settings
):
    client.force_login(make_member(make_organisation("Andere AG"), Role.MANAGEMENT))

    response = verify(client, stored_bytes(signed_demo, settings))

    text = visible(response)
    assert "Authentisch" in text and "SLA der Muster AG" in text
    # No way into the agreement: its page stays closed to non-members.
    assert reverse("agreement_detail", args=[signed_demo.pk]) not in text


def test_the_verify_page_needs_a_login(client):
    response = client.get(reverse("pdf_verify"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_verify_page_is_linked_from_the_navbar(client, signed_demo):
    client.login(username="management", password="demo")
    response = client.get(reverse("pdf_verify"))
    assert response.status_code == 200
    assert f'href="{reverse("pdf_verify")}"' in response.text
    assert 'enctype="multipart/form-data"' in response.text


# --- verify_pdf ---------------------------------------------------------------------------


def test_verify_pdf_accepts_the_stored_file(signed_demo, settings, tmp_path):
    path = tmp_path / "SLA.pdf"
    path.write_bytes(stored_bytes(signed_demo, settings))
    output = StringIO()

    call_command("verify_pdf", str(path), stdout=output)  # returns: exit status 0

    text = output.getvalue()
    assert "Authentic: SLA Muster AG 01.01.2026–31.12.2026" in text
    assert signed_demo.signed_pdf_sha256 in text
    assert "Marketing: Anna Keller, Leiterin Inbound Marketing, signed" in text
    assert "Sales: Marco Brunner, Leiter Inbound Sales, signed" in text


def test_verify_pdf_refuses_a_flipped_byte_with_exit_status_1(signed_demo, settings, tmp_path):
    path = tmp_path / "SLA.pdf"
    path.write_bytes(flipped(stored_bytes(signed_demo, settings)))

    with pytest.raises(CommandError, match="NOT authentic") as refused:
        call_command("verify_pdf", str(path), stdout=StringIO())

    assert refused.value.returncode == 1


def test_verify_pdf_reports_an_unreadable_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_pdf", str(tmp_path / "missing.pdf"), stdout=StringIO())


# --- export_pdf ---------------------------------------------------------------------------


def test_export_pdf_writes_the_stored_bytes_of_a_signed_agreement(signed_demo, settings, tmp_path):
    output = tmp_path / "export.pdf"

    call_command("export_pdf", str(signed_demo.pk), "--output", str(output), stdout=StringIO())

    assert output.read_bytes() == stored_bytes(signed_demo, settings)


def test_export_pdf_writes_an_unsealed_preview_of_a_draft(demo_agreement, tmp_path):
    output = tmp_path / "draft.pdf"

    call_command("export_pdf", str(demo_agreement.pk), "-o", str(output), stdout=StringIO())

    content = output.read_bytes()
    assert "ENTWURF" in squeeze(poppler("pdftotext", content, "-raw", "-f", "1", "-l", "1"))
    report = subprocess.run(["pdfsig", str(output)], capture_output=True, text=True)
    assert "does not contain any signatures" in report.stdout + report.stderr


def test_export_pdf_refuses_an_unknown_agreement(db, tmp_path):
    with pytest.raises(CommandError, match="No agreement 999999"):
        call_command("export_pdf", "999999", "-o", str(tmp_path / "x.pdf"), stdout=StringIO())
    assert not (tmp_path / "x.pdf").exists()
