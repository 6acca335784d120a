"""Is this PDF an authentic signed SLA? The verify page and the verify_pdf / export_pdf commands.

Authentic means byte for byte the sealed PDF the portal stored when the agreement was
signed, with its seal, certification and embedded content intact: one flipped or
appended byte makes it "nicht authentisch", and the page says what it checked and why a
file fails (a revision after the seal, another certificate, no seal).
"""

import re
import shutil
import subprocess
from html import unescape
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from agreements.archive import signed_render_inputs
from agreements.document import swiss_date
from agreements.enums import Role
from agreements.forms import VERIFY_MAX_BYTES
from agreements.pdf import render_agreement_pdf
from agreements.seal import seal_certificate_create
from tests.factories import make_member, make_organisation, make_pdf
from tests.test_pdf import poppler, squeeze
from tests.test_uploads import raw_pdf

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


def verify(client, content: bytes, name="SLA.pdf", **headers):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(reverse("pdf_verify"), {"pdf": upload}, **headers)


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


def test_a_pdf_beyond_the_parsing_caps_is_answered_and_not_authentic(client, signed_demo, settings):
    # A catalog of a million integers: pyHanko would build some 250 MB of objects. It is
    # parsed in the capped child (agreements.sandbox), lowered here to stay quick.
    settings.SLA_PDF_PARSE_MEMORY_MB = 16
    settings.SLA_PDF_PARSE_CPU_SECONDS = 1
    client.login(username="marketing", password="demo")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Filler [" + b"1 " * 1_000_000 + b"] >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]

    response = verify(client, raw_pdf(*objects))

    assert response.status_code == 200
    text = visible(response)
    assert "Nicht authentisch" in text
    assert "Die Datei ist zu komplex, um sie zu prüfen" in text


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


# --- What was checked, and why a file fails ------------------------------------------------


def checks(response) -> dict[str, str]:
    """The verify page's list of checks: title -> "outcome: explanation"."""
    section = re.search(r'<section[^>]*id="verify-checks".*?</section>', response.text, re.S)
    items = re.findall(
        r'<span class="badge[^"]*">(.*?)</span>\s*<strong>(.*?):</strong>(.*?)</li>',
        section.group(),
        re.S,
    )

    def plain(html: str) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())

    return {plain(title): f"{plain(outcome)}: {plain(text)}" for outcome, title, text in items}


def sealed_with(key_file, cert_file, agreement) -> bytes:
    """The agreement's signed PDF rendered anew and sealed with another key and certificate."""
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file))
    metadata = signers.PdfSignatureMetadata(
        field_name="Portal-Siegel", md_algorithm="sha256", certify=True
    )
    output = BytesIO()
    writer = IncrementalPdfFileWriter(
        BytesIO(render_agreement_pdf(agreement, **signed_render_inputs(agreement)))
    )
    signers.sign_pdf(writer, metadata, signer=signer, output=output)
    return output.getvalue()


def test_the_page_says_what_it_checked_of_an_authentic_file(client, signed_demo, settings):
    client.login(username="management", password="demo")

    response = verify(client, stored_bytes(signed_demo, settings))

    found = checks(response)
    assert list(found) == [
        "Datei",
        "Siegel",
        "Zertifizierung",
        "Zeitstempel",
        "Unterzeichneter Inhalt",
    ]
    assert found["Datei"].startswith("erfüllt: Byte für Byte das unterzeichnete PDF")
    assert found["Siegel"].startswith("erfüllt: Das Siegel des Portals ist unversehrt")
    assert "SLA-Portal Siegel (Entwicklung, selbst signiert)" in found["Siegel"]
    assert found["Zertifizierung"] == (
        "erfüllt: Zertifiziert, keine Änderungen erlaubt: nach dem Siegel wurde nichts angefügt."
    )
    # The tests seal without a timestamp server: no failure, but said plainly.
    assert found["Zeitstempel"].startswith("Hinweis: Das Siegel trägt keinen Zeitstempel")
    assert found["Unterzeichneter Inhalt"].startswith("erfüllt: Der eingebettete Inhalt")
    assert signed_demo.content_sha256 in found["Unterzeichneter Inhalt"]
    assert "Authentisch" in visible(response)


def test_the_checks_are_explained_in_english_too(client, signed_demo, settings):
    client.login(username="management", password="demo")

    response = verify(client, stored_bytes(signed_demo, settings), HTTP_ACCEPT_LANGUAGE="en")

    found = checks(response)
    assert "What was checked" in response.text
    assert list(found) == ["File", "Seal", "Certification", "Timestamp", "Signed content"]
    assert found["Certification"] == (
        "passed: Certified, no changes allowed: nothing was appended after the seal."
    )
    assert found["Timestamp"].startswith("note: The seal carries no timestamp")


def test_a_revision_added_after_the_seal_fails_the_certification(client, signed_demo, settings):
    """An incremental update after the seal: the sealed bytes are intact, the file is not."""
    client.login(username="management", password="demo")
    writer = IncrementalPdfFileWriter(BytesIO(stored_bytes(signed_demo, settings)))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    overlay = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 0 0 600 800 re f Q"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), overlay])
    writer.update_container(page)
    shadowed = BytesIO()
    writer.write(shadowed)

    response = verify(client, shadowed.getvalue())

    text = visible(response)
    assert "Nicht authentisch" in text and "Anna Keller" not in text
    found = checks(response)
    assert found["Datei"].startswith("nicht erfüllt: Kein vom Portal abgelegtes PDF")
    assert found["Siegel"].startswith("erfüllt:")  # what it covers is untouched...
    assert found["Zertifizierung"].startswith(  # ...but the certification forbids the rest
        "nicht erfüllt: Nach dem Siegel wurde eine Revision angefügt"
    )
    assert "Warum:" in text and "die die Zertifizierung verbietet" in text


def test_a_copy_sealed_with_another_certificate_is_refused_and_named(client, signed_demo, tmp_path):
    client.login(username="management", password="demo")
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    seal_certificate_create(key_file=key_file, cert_file=cert_file, common_name="Fälscher Siegel")

    response = verify(client, sealed_with(key_file, cert_file, signed_demo))

    found = checks(response)
    assert "Nicht authentisch" in visible(response)
    assert found["Siegel"] == (
        "nicht erfüllt: Das Siegel ist unversehrt, stammt aber nicht vom Zertifikat des "
        "Portals: ausgestellt für „Fälscher Siegel“ von „Fälscher Siegel“."
    )


def test_a_copy_without_its_seal_is_refused(client, signed_demo):
    client.login(username="management", password="demo")
    unsealed = render_agreement_pdf(signed_demo, **signed_render_inputs(signed_demo))

    response = verify(client, unsealed)

    found = checks(response)
    assert found == {
        "Datei": found["Datei"],
        "Siegel": "nicht erfüllt: Die Datei trägt kein Siegel: sie wurde nie versiegelt, "
        "oder das Siegel wurde entfernt.",
    }
    assert found["Datei"].startswith("nicht erfüllt:")


# --- verify_pdf ---------------------------------------------------------------------------


def test_verify_pdf_accepts_the_stored_file(signed_demo, settings, tmp_path):
    path = tmp_path / "SLA.pdf"
    path.write_bytes(stored_bytes(signed_demo, settings))
    output = StringIO()

    call_command("verify_pdf", str(path), language="en", stdout=output)  # exit status 0

    text = output.getvalue()
    assert "Authentic: SLA Muster AG 01.01.2026–31.12.2026" in text
    assert signed_demo.signed_pdf_sha256 in text
    assert "Marketing: Anna Keller, Leiterin Inbound Marketing, signed" in text
    assert "Sales: Marco Brunner, Leiter Inbound Sales, signed" in text


def test_verify_pdf_refuses_a_flipped_byte_with_exit_status_1(signed_demo, settings, tmp_path):
    path = tmp_path / "SLA.pdf"
    path.write_bytes(flipped(stored_bytes(signed_demo, settings)))

    with pytest.raises(CommandError, match="NOT authentic") as refused:
        call_command("verify_pdf", str(path), language="en", stdout=StringIO())

    assert refused.value.returncode == 1


def test_verify_pdf_reports_an_unreadable_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_pdf", str(tmp_path / "missing.pdf"), language="en", stdout=StringIO())


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
