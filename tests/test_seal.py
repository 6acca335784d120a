"""The portal's seal: pdfsig shows it valid and the document unchanged, PDF/A survives.

It certifies the document (DocMDP, no changes), carries a trusted time (B-T) and its
validation data (B-LT) when configured, and takes archive timestamps (B-LTA), all checked
with pyHanko's validator against a real RFC 3161 server (``openssl ts``, conftest's
``timestamp_authority``) and its test CA. ``pdfsig`` exits 0 even for a broken
signature, so the tests read its output.
"""

import asyncio
import datetime
import logging
import shutil
import subprocess
import tempfile
from io import BytesIO, StringIO

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    SignatureCoverageLevel,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext

from agreements.demo import load_demo
from agreements.pdf import render_agreement_pdf
from agreements.seal import (
    SEAL_FIELD_NAME,
    SEAL_REASON,
    SealError,
    TimestampUnavailable,
    pdf_archive_timestamp_add,
    seal_certificate_create,
    seal_pdf,
)
from tests.timestamp_authority import unused_local_url

pytestmark = pytest.mark.skipif(
    not shutil.which("pdfsig"), reason="poppler-utils missing (`make browsers` installs them)"
)


def pdfsig(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        result = subprocess.run(["pdfsig", file.name], capture_output=True, text=True)
        return result.stdout + result.stderr


@pytest.fixture(scope="module")
def demo_pdf(django_db_setup, django_db_blocker):
    """The demo SLA as rendered (unsealed), once for this module."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        pdf = render_agreement_pdf(load_demo())
        transaction.set_rollback(True)
    return pdf


@pytest.fixture
def seal_settings(settings, tmp_path):
    """Seal files in a fresh directory, created by the management command."""
    settings.SLA_SEAL_KEY_FILE = tmp_path / "seal" / "seal-key.pem"
    settings.SLA_SEAL_CERT_FILE = tmp_path / "seal" / "seal-cert.pem"
    settings.SLA_SEAL_PKCS12_FILE = None
    settings.SLA_SEAL_PASSPHRASE = None
    settings.SLA_SEAL_TIMESTAMP_URL = None
    settings.SLA_SEAL_TRUST_ROOTS_FILE = None
    call_command("create_seal_certificate", stdout=StringIO())
    return settings


def test_create_seal_certificate_creates_a_private_key_once(settings, tmp_path):
    settings.SLA_SEAL_KEY_FILE = key_file = tmp_path / "seal" / "seal-key.pem"
    settings.SLA_SEAL_CERT_FILE = cert_file = tmp_path / "seal" / "seal-cert.pem"
    settings.SLA_SEAL_PKCS12_FILE = None
    settings.SLA_SEAL_PASSPHRASE = None

    first, second = StringIO(), StringIO()
    call_command("create_seal_certificate", stdout=first)
    key, certificate = key_file.read_bytes(), cert_file.read_bytes()
    call_command("create_seal_certificate", stdout=second)

    assert "created" in first.getvalue() and "already present" in second.getvalue()
    assert (key_file.read_bytes(), cert_file.read_bytes()) == (key, certificate)
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    loaded = x509.load_pem_x509_certificate(certificate)
    assert loaded.subject == loaded.issuer  # self-signed, for development


def test_sealed_pdf_is_valid_and_covers_the_whole_unchanged_document(seal_settings, demo_pdf):
    sealed = seal_pdf(demo_pdf)

    report = pdfsig(sealed)
    assert f"Signature Field Name: {SEAL_FIELD_NAME}" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report  # PAdES
    assert sealed.startswith(demo_pdf)  # an incremental update: the rendered bytes stay
    reader = PdfFileReader(BytesIO(sealed))
    [signature] = reader.embedded_signatures
    assert signature.sig_object["/Reason"] == SEAL_REASON


def test_sealing_works_where_an_event_loop_is_running(seal_settings, demo_pdf):
    """pyHanko's own asyncio.run() would refuse here (e.g. under Playwright's sync API)."""

    async def seal_inside_the_loop():
        return seal_pdf(demo_pdf)

    sealed = asyncio.run(seal_inside_the_loop())

    assert "Signature Validation: Signature is Valid." in pdfsig(sealed)


def test_one_flipped_byte_breaks_the_seal(seal_settings, demo_pdf):
    sealed = bytearray(seal_pdf(demo_pdf))
    sealed[len(demo_pdf) // 2] ^= 0x01  # a byte of the rendered document, signed

    report = pdfsig(bytes(sealed))
    assert "Signature is Valid" not in report
    assert "Digest Mismatch" in report or "Signature is Invalid" in report


def test_sealing_keeps_the_pdf_a_metadata_consistent(seal_settings, demo_pdf):
    sealed = seal_pdf(demo_pdf)

    reader = PdfFileReader(BytesIO(sealed))
    xmp = reader.root["/Metadata"].data.decode()
    info = reader.trailer_view["/Info"]
    # PDF/A: the information dictionary and the XMP packet must say the same.
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert 'pdfuaid:part="1"' in xmp  # and PDF/UA-1 (agreements.pdf_accessible)
    [field] = reader.root["/AcroForm"]["/Fields"]
    assert field.get_object()["/F"] & 4  # PDF/A: the seal's widget is printable


@pytest.mark.django_db
def test_a_sealed_pdf_a_with_attachment_stays_valid(seal_settings, demo_agreement, tmp_path):
    from django.core.files.base import ContentFile

    seal_settings.MEDIA_ROOT = tmp_path
    demo_agreement.framework_document.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    sealed = seal_pdf(render_agreement_pdf(demo_agreement))
    assert "Signature is Valid." in pdfsig(sealed)


def test_seal_from_a_pkcs12_file_with_passphrase(settings, tmp_path, demo_pdf):
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    seal_certificate_create(
        key_file=key_file, cert_file=cert_file, common_name="SLA-Portal Produktion (Test)"
    )
    bundle = pkcs12.serialize_key_and_certificates(
        name=b"seal",
        key=serialization.load_pem_private_key(key_file.read_bytes(), password=None),
        cert=x509.load_pem_x509_certificate(cert_file.read_bytes()),
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(b"geheim"),
    )
    (tmp_path / "seal.p12").write_bytes(bundle)
    settings.SLA_SEAL_PKCS12_FILE = str(tmp_path / "seal.p12")
    settings.SLA_SEAL_PASSPHRASE = "geheim"
    settings.SLA_SEAL_TIMESTAMP_URL = None

    report = pdfsig(seal_pdf(demo_pdf))
    assert "Signer Certificate Common Name: SLA-Portal Produktion (Test)" in report
    assert "Signature is Valid." in report


@pytest.fixture
def encrypted_seal_settings(settings, tmp_path):
    """Seal files made by the management command, the key encrypted with a passphrase."""
    settings.SLA_SEAL_KEY_FILE = tmp_path / "seal-key.pem"
    settings.SLA_SEAL_CERT_FILE = tmp_path / "seal-cert.pem"
    settings.SLA_SEAL_PKCS12_FILE = None
    settings.SLA_SEAL_PASSPHRASE = "geheim"
    settings.SLA_SEAL_TIMESTAMP_URL = None
    call_command("create_seal_certificate", stdout=StringIO())
    return settings


def test_create_seal_certificate_encrypts_the_key_with_the_passphrase(
    encrypted_seal_settings, demo_pdf
):
    assert b"ENCRYPTED PRIVATE KEY" in encrypted_seal_settings.SLA_SEAL_KEY_FILE.read_bytes()
    assert "Signature is Valid." in pdfsig(seal_pdf(demo_pdf))


def test_a_renewed_certificate_seals_from_the_next_pdf_on(seal_settings, demo_pdf):
    """The signer is kept between seals, but not past a replaced key and certificate."""
    assert "SLA-Portal Siegel (Entwicklung" in pdfsig(seal_pdf(demo_pdf))
    seal_settings.SLA_SEAL_KEY_FILE.unlink()
    seal_settings.SLA_SEAL_CERT_FILE.unlink()
    seal_certificate_create(
        key_file=seal_settings.SLA_SEAL_KEY_FILE,
        cert_file=seal_settings.SLA_SEAL_CERT_FILE,
        common_name="SLA-Portal Siegel 2027",
    )

    report = pdfsig(seal_pdf(demo_pdf))

    assert "Signer Certificate Common Name: SLA-Portal Siegel 2027" in report
    assert "Signature is Valid." in report


def test_a_wrong_passphrase_is_an_error_even_after_a_good_seal(encrypted_seal_settings, demo_pdf):
    assert "Signature is Valid." in pdfsig(seal_pdf(demo_pdf))

    encrypted_seal_settings.SLA_SEAL_PASSPHRASE = "falsch"
    with pytest.raises(SealError):
        seal_pdf(demo_pdf)


def unsigned_attributes(sealed: bytes) -> list[str]:
    [signature] = PdfFileReader(BytesIO(sealed)).embedded_signatures
    attributes = signature.signer_info["unsigned_attrs"].native or []
    return [attribute["type"] for attribute in attributes]


def certificate(pem_or_file) -> asn1_x509.Certificate:
    """An asn1crypto certificate (pyHanko's kind) from a PEM file or a cryptography one."""
    if isinstance(pem_or_file, x509.Certificate):
        return asn1_x509.Certificate.load(pem_or_file.public_bytes(serialization.Encoding.DER))
    return asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(pem_or_file.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
    )


def validate(pdf: bytes, trust_roots, *, signature=0, offline=False):
    """pyHanko's verdict on a signature of ``pdf``, as a validator outside the portal gives it.

    ``offline``: only the validation data inside the file (its DSS) counts, and every
    certificate that names a revocation server must have its revocation data there.
    """
    reader = PdfFileReader(BytesIO(pdf))
    options = {"trust_roots": trust_roots}
    if offline:
        options |= {"allow_fetching": False, "revocation_mode": "hard-fail"}
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(options)
    else:
        context = ValidationContext(**options)
    return validate_pdf_signature(reader.embedded_signatures[signature], context)


# --- Certification: no changes after the seal ---------------------------------------------


def test_the_seal_certifies_the_document_allowing_no_changes(seal_settings, demo_pdf):
    sealed = seal_pdf(demo_pdf)

    reader = PdfFileReader(BytesIO(sealed))
    [seal] = reader.embedded_signatures
    assert seal.docmdp_level is MDPPerm.NO_CHANGES
    assert reader.root["/Perms"]["/DocMDP"].get_object() == seal.sig_object
    status = validate(sealed, [certificate(seal_settings.SLA_SEAL_CERT_FILE)])
    assert status.bottom_line and status.docmdp_ok
    assert status.modification_level is ModificationLevel.NONE


def _add_annotation(writer: IncrementalPdfFileWriter) -> None:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
                generic.pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (50, 50, 70, 70)]
                ),
                generic.pdf_name("/Contents"): generic.TextStringObject("Nachträglich"),
            }
        )
    )
    page["/Annots"] = generic.ArrayObject([note])
    writer.update_container(page)


def _overlay_page_content(writer: IncrementalPdfFileWriter) -> None:
    """The "shadow" attack: a new content stream drawn over the signed page."""
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    overlay = writer.add_object(
        generic.StreamObject(stream_data=b"q 1 1 1 rg 70 500 400 200 re f Q")
    )
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), overlay])
    writer.update_container(page)


def _reorder_pages(writer: IncrementalPdfFileWriter) -> None:
    """The last page (the audit page) put first."""
    pages = writer.root["/Pages"]
    kids = pages["/Kids"]
    references = [kids.raw_get(index) for index in range(len(kids))]
    pages["/Kids"] = generic.ArrayObject([references[-1], *references[:-1]])
    writer.update_container(pages)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_add_annotation, id="an added annotation"),
        pytest.param(_overlay_page_content, id="content drawn over a page"),
        pytest.param(_reorder_pages, id="pages put in another order"),
    ],
)
def test_a_revision_appended_after_the_seal_is_a_forbidden_change(seal_settings, demo_pdf, change):
    sealed = seal_pdf(demo_pdf)
    writer = IncrementalPdfFileWriter(BytesIO(sealed))
    change(writer)
    output = BytesIO()
    writer.write(output)
    changed = output.getvalue()

    status = validate(changed, [certificate(seal_settings.SLA_SEAL_CERT_FILE)])

    assert status.intact and status.valid  # what the seal covers is still untouched...
    assert status.docmdp_ok is False  # ...but the certification forbids the revision
    assert status.modification_level > ModificationLevel.LTA_UPDATES
    assert not status.bottom_line


# --- Trusted time (B-T), validation data (B-LT), archive timestamps (B-LTA) ----------------


def test_an_unreachable_timestamp_server_stops_the_seal_and_is_logged(
    seal_settings, demo_pdf, caplog
):
    seal_settings.SLA_SEAL_TIMESTAMP_URL = url = unused_local_url("/tsa")

    with (
        caplog.at_level(logging.ERROR, logger="agreements.seal"),
        pytest.raises(TimestampUnavailable, match=url),
    ):
        seal_pdf(demo_pdf)

    assert "Zeitstempel" in caplog.text and url in caplog.text


def test_a_timestamp_server_that_fails_gives_no_seal_rather_than_a_made_up_time(
    seal_settings, demo_pdf, timestamp_authority, caplog
):
    seal_settings.SLA_SEAL_TIMESTAMP_URL = timestamp_authority.url

    with (
        timestamp_authority.outage(),
        caplog.at_level(logging.ERROR, logger="agreements.seal"),
        pytest.raises(TimestampUnavailable, match="try again later"),
    ):
        seal_pdf(demo_pdf)

    assert "503" in caplog.text


def test_with_a_timestamp_server_the_seal_is_pades_b_t(
    seal_settings, demo_pdf, timestamp_authority
):
    seal_settings.SLA_SEAL_TIMESTAMP_URL = timestamp_authority.url
    before = timestamp_authority.requests

    sealed = seal_pdf(demo_pdf)

    assert timestamp_authority.requests > before  # openssl ts answered
    assert "signature_time_stamp_token" in unsigned_attributes(sealed)
    roots = [
        certificate(seal_settings.SLA_SEAL_CERT_FILE),
        certificate(timestamp_authority.ca_cert),
    ]
    status = validate(sealed, roots)
    assert status.bottom_line and status.docmdp_ok
    timestamp = status.timestamp_validity
    assert timestamp.intact and timestamp.valid and timestamp.trusted
    assert abs(timestamp.timestamp - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(
        minutes=2
    )
    assert "Signature Validation: Signature is Valid." in pdfsig(sealed)


def test_with_trust_roots_the_seal_embeds_its_validation_data_pades_b_lt(
    ca_seal_settings, demo_pdf, timestamp_authority
):
    sealed = seal_pdf(demo_pdf)

    reader = PdfFileReader(BytesIO(sealed))
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3 and len(dss["/CRLs"]) >= 1  # seal, TSA, CA; the CA's CRL
    # Valid from the file alone: no revocation server is asked.
    crl_requests = timestamp_authority.crl_requests
    status = validate(sealed, [certificate(timestamp_authority.ca_cert)], offline=True)
    assert timestamp_authority.crl_requests == crl_requests
    assert status.bottom_line and status.trusted and status.docmdp_ok
    assert status.modification_level is ModificationLevel.LTA_UPDATES  # the DSS revision
    assert status.timestamp_validity.trusted
    # The DSS revision leaves the PDF/A metadata as WeasyPrint wrote it.
    xmp = reader.root["/Metadata"].data.decode()
    assert f'pdf:Producer="{reader.trailer_view["/Info"]["/Producer"]}"' in xmp
    assert "Signature Validation: Signature is Valid." in pdfsig(sealed)


def test_without_revocation_data_there_is_no_seal_rather_than_a_lesser_one(
    settings, tmp_path, demo_pdf, timestamp_authority, caplog
):
    timestamp_authority.configure_seal(
        settings,
        tmp_path / "seal.p12",
        "SLA-Portal Siegel (CRL weg)",
        crl_url=unused_local_url("/ca.crl"),
    )

    with (
        caplog.at_level(logging.ERROR, logger="agreements.seal"),
        pytest.raises(SealError, match="SLA_SEAL_TRUST_ROOTS_FILE"),
    ):
        seal_pdf(demo_pdf)
    assert "Validierungsdaten" in caplog.text


def test_an_archive_timestamp_makes_the_seal_pades_b_lta_and_changes_nothing(
    ca_seal_settings, demo_pdf, timestamp_authority
):
    sealed = seal_pdf(demo_pdf)

    renewed = pdf_archive_timestamp_add(sealed)

    assert renewed.pdf.startswith(sealed)  # appended, never rewritten
    assert renewed.authority == "SLA-Portal Test-Zeitstempeldienst"
    roots = [certificate(timestamp_authority.ca_cert)]
    seal_status = validate(renewed.pdf, roots, offline=True)
    assert seal_status.bottom_line and seal_status.docmdp_ok  # allowed by the certification
    assert seal_status.modification_level is ModificationLevel.LTA_UPDATES
    reader = PdfFileReader(BytesIO(renewed.pdf))
    [document_timestamp] = reader.embedded_timestamp_signatures
    dss_context = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
    )
    timestamp_status = validate_pdf_timestamp(document_timestamp, dss_context)
    assert timestamp_status.valid and timestamp_status.intact and timestamp_status.trusted
    assert timestamp_status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    assert timestamp_status.timestamp == renewed.timestamped_at

    # Renewed again, the chain grows by one; both timestamps still hold.
    again = pdf_archive_timestamp_add(renewed.pdf)
    reader = PdfFileReader(BytesIO(again.pdf))
    assert len(reader.embedded_timestamp_signatures) == 2
    assert validate(again.pdf, roots, offline=True).docmdp_ok
    xmp = reader.root["/Metadata"].data.decode()
    assert f'pdf:Producer="{reader.trailer_view["/Info"]["/Producer"]}"' in xmp


def test_an_archive_timestamp_needs_a_timestamp_server(seal_settings, demo_pdf):
    with pytest.raises(SealError, match="SLA_SEAL_TIMESTAMP_URL"):
        pdf_archive_timestamp_add(seal_pdf(demo_pdf))
