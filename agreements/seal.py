"""The portal's seal on signed PDFs: a PAdES signature made with pyHanko.

The seal says "this file left the SLA Portal like this": any PDF reader, and poppler's
``pdfsig``, shows it valid and the document unchanged, and flags every later change.
It is added as an incremental update that leaves the document's metadata as WeasyPrint
wrote it, so the PDF/A-3b file stays PDF/A.

The key and certificate come from settings: a PKCS#12 file (``SLA_SEAL_PKCS12_FILE``)
in production, or a PEM key and certificate (``SLA_SEAL_KEY_FILE``,
``SLA_SEAL_CERT_FILE``) that ``seal_certificate_create`` makes self-signed for
development. With ``SLA_SEAL_TIMESTAMP_URL`` an RFC 3161 timestamp makes the seal
PAdES B-T; when the timestamp server fails, that is logged and the seal stays B-B:
a time is never invented.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

logger = logging.getLogger(__name__)

SEAL_FIELD_NAME = "Portal-Siegel"
SEAL_REASON = "Unterzeichnete Leistungsvereinbarung"
SEAL_SIGNER_NAME = "SLA-Portal"
DEVELOPMENT_COMMON_NAME = "SLA-Portal Siegel (Entwicklung, selbst signiert)"


class SealError(Exception):
    """The PDF could not be sealed."""


def seal_pdf(pdf_bytes: bytes) -> bytes:
    """Seal a finished PDF with the portal's certificate and return the sealed bytes.

    The original bytes stay unchanged at the start of the result (incremental update).
    """
    signer = _load_signer()
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        reason=SEAL_REASON,
        name=SEAL_SIGNER_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    timestamp_url = settings.SLA_SEAL_TIMESTAMP_URL
    if timestamp_url:
        try:
            return _sign(pdf_bytes, metadata, signer, HTTPTimeStamper(timestamp_url, timeout=10))
        except TimestampRequestError as error:
            # B-B without a time is honest; a local clock dressed up as a timestamp is not.
            logger.warning(
                "Zeitstempel von %s fehlgeschlagen, Siegel ohne Zeitstempel (PAdES B-B): %s",
                timestamp_url,
                error,
            )
    return _sign(pdf_bytes, metadata, signer, None)


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document information and XMP alone.

    pyHanko would append itself to the information dictionary's /Producer but write only
    itself into the XMP packet; PDF/A requires the two to agree. The seal's own time and
    signer are in the signature dictionary, so nothing is lost. Overriding
    ``_update_meta`` is the pyHanko maintainer's advice for this (pyHanko issue #223);
    tests/test_pdf.py checks that both producers still agree after sealing.
    """

    def _update_meta(self):
        pass


def _sign(pdf_bytes, metadata, signer, timestamper) -> bytes:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _sign_here(pdf_bytes, metadata, signer, timestamper)
    # pyHanko's synchronous API calls asyncio.run(), which refuses to run in a thread whose
    # event loop is running (Playwright's sync API in the browser tests, an ASGI loop).
    # A thread of its own has none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_sign_here, pdf_bytes, metadata, signer, timestamper).result()


def _sign_here(pdf_bytes, metadata, signer, timestamper) -> bytes:
    writer = _MetadataKeepingWriter(BytesIO(pdf_bytes))
    output = BytesIO()
    signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper, output=output)
    return output.getvalue()


def _passphrase() -> bytes | None:
    value = settings.SLA_SEAL_PASSPHRASE
    return value.encode() if value else None


def _load_signer() -> signers.SimpleSigner:
    """The seal's signer, loaded once per process and again when a file or the passphrase changes.

    Loading parses the key (and decrypts it with the passphrase): some 90 ms, a tenth of
    a whole completion (bench/, issue 7). A renewed certificate is picked up at the next
    seal: the cache key holds each file's inode, size and modification time.
    """
    pkcs12_file = settings.SLA_SEAL_PKCS12_FILE
    if pkcs12_file:
        files = (Path(pkcs12_file),)
        if not files[0].is_file():
            raise ImproperlyConfigured(f"SLA_SEAL_PKCS12_FILE {pkcs12_file} does not exist")
    else:
        files = (Path(settings.SLA_SEAL_KEY_FILE), Path(settings.SLA_SEAL_CERT_FILE))
        if not all(file.is_file() for file in files):
            raise ImproperlyConfigured(
                f"No seal certificate: {files[0]} and {files[1]} are needed "
                "(`manage.py create_seal_certificate` makes them for development), "
                "or set SLA_SEAL_PKCS12_FILE."
            )
    passphrase = _passphrase()
    key = (
        tuple((str(file), *_file_stamp(file)) for file in files),
        hashlib.sha256(passphrase).hexdigest() if passphrase else None,
    )
    with _signer_lock:
        signer = _signers.get(key)
        if signer is None:
            if pkcs12_file:
                signer = signers.SimpleSigner.load_pkcs12(str(files[0]), passphrase=passphrase)
            else:
                signer = signers.SimpleSigner.load(
                    str(files[0]), str(files[1]), key_passphrase=passphrase
                )
            if signer is None:  # pyHanko logs the reason, e.g. a wrong passphrase
                raise SealError("The seal's key or certificate could not be loaded.")
            _signers.clear()  # one seal at a time: a replaced one is not kept
            _signers[key] = signer
    return signer


_signers: dict[tuple, signers.SimpleSigner] = {}
_signer_lock = threading.Lock()


def _file_stamp(file: Path) -> tuple[int, int, int]:
    status = file.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns


def seal_certificate_create(
    *,
    key_file: Path,
    cert_file: Path,
    passphrase: str | None = None,
    common_name: str = DEVELOPMENT_COMMON_NAME,
    valid_days: int = 5 * 365,
) -> bool:
    """Create a self-signed seal key and certificate; False when both already exist.

    For development and tests only: production uses a certificate from a real CA. An
    existing key is never overwritten, so a half-present pair is an error.
    """
    if key_file.exists() and cert_file.exists():
        return False
    if key_file.exists() or cert_file.exists():
        raise SealError(f"Only one of {key_file} and {cert_file} exists; refusing to replace it.")

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SLA-Portal"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CH"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    # The key is readable by its owner only, from the moment it exists.
    key_file.touch(mode=0o600)
    key_file.write_bytes(key_bytes)
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True
