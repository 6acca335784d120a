"""The portal's seal: pdfsig shows it valid and the document unchanged, PDF/A survives.

``pdfsig`` exits 0 even for a broken signature, so the tests read its output.
"""

import asyncio
import datetime
import http.server
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
from io import BytesIO, StringIO

import pytest
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper

from agreements.demo import load_demo
from agreements.pdf import render_agreement_pdf
from agreements.seal import (
    SEAL_FIELD_NAME,
    SEAL_REASON,
    SealError,
    seal_certificate_create,
    seal_pdf,
)

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
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
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


def test_a_failed_timestamp_is_logged_and_never_faked(seal_settings, demo_pdf, caplog):
    with socket.socket() as probe:  # a port on this machine where nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seal_settings.SLA_SEAL_TIMESTAMP_URL = f"http://127.0.0.1:{port}/tsa"

    with caplog.at_level(logging.WARNING, logger="agreements.seal"):
        sealed = seal_pdf(demo_pdf)

    assert "Zeitstempel" in caplog.text and f"127.0.0.1:{port}" in caplog.text
    assert "Signature is Valid." in pdfsig(sealed)
    assert "signature_time_stamp_token" not in unsigned_attributes(sealed)


@pytest.fixture
def timestamp_server(tmp_path):
    """An RFC 3161 timestamp server on 127.0.0.1, signing with its own test certificate."""
    key_file, cert_file = tmp_path / "tsa-key.pem", tmp_path / "tsa-cert.pem"
    seal_certificate_create(key_file=key_file, cert_file=cert_file, common_name="Test-TSA")
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(cert_file.read_bytes()).public_bytes(
                serialization.Encoding.DER
            )
        ),
        tsa_key=keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        fixed_dt=datetime.datetime(2026, 12, 2, 7, 30, tzinfo=datetime.UTC),
    )

    class Tsa(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tsa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_with_a_timestamp_server_the_seal_carries_a_timestamp(
    seal_settings, demo_pdf, timestamp_server
):
    seal_settings.SLA_SEAL_TIMESTAMP_URL = timestamp_server

    sealed = seal_pdf(demo_pdf)

    assert "signature_time_stamp_token" in unsigned_attributes(sealed)  # PAdES B-T
    assert "Signature is Valid." in pdfsig(sealed)
