"""The portal's seal on signed PDFs: a PAdES certification signature made with pyHanko.

The seal says "this file left the SLA Portal like this, and nothing may be added": it is
a certification signature with DocMDP "no changes permitted", so Adobe Reader, pyHanko
and other validators flag any later revision (a changed page, an added annotation, a
second signature) as not allowed. Only validation data and document timestamps may
follow it; PAdES defines them as no change.

The level of the seal follows the settings:

- B-B: the seal alone (development; ``make run`` needs nothing else).
- B-T: with ``SLA_SEAL_TIMESTAMP_URL`` an RFC 3161 timestamp server countersigns the
  seal, so its time is a third party's, not the server clock's.
- B-LT: with ``SLA_SEAL_TRUST_ROOTS_FILE`` as well, the certificates and revocation data
  (CRLs, OCSP responses) of the seal and of the timestamp go into the PDF's document
  security store (DSS), so the seal can be validated long after they expire.
- B-LTA: ``pdf_archive_timestamp_add`` (``manage.py add_archive_timestamps``) adds a
  document timestamp over all of it, and is repeated before the last one expires.

When the timestamp server fails, ``seal_pdf`` raises ``TimestampUnavailable`` and logs
it: a seal is never given a made-up time, nor silently less than configured. The caller
retries later.

Every revision is appended with ``_MetadataKeepingWriter``, which leaves the document's
metadata as WeasyPrint wrote it, so the PDF/A-3 file stays PDF/A. The signature widgets
are invisible, printable (PDF/A) and outside the page (PDF/UA).

The key and certificate come from settings: a PKCS#12 file (``SLA_SEAL_PKCS12_FILE``)
in production, or a PEM key and certificate (``SLA_SEAL_KEY_FILE``,
``SLA_SEAL_CERT_FILE``) that ``seal_certificate_create`` makes self-signed for
development. docs/seal.md explains how to get a certificate readers trust.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, ValidationError

logger = logging.getLogger(__name__)

SEAL_FIELD_NAME = "Portal-Siegel"
SEAL_REASON = "Unterzeichnete Leistungsvereinbarung"
SEAL_SIGNER_NAME = "SLA-Portal"
ARCHIVE_TIMESTAMP_FIELD_PREFIX = "Archivzeitstempel"
DEVELOPMENT_COMMON_NAME = "SLA-Portal Siegel (Entwicklung, selbst signiert)"
TIMESTAMP_TIMEOUT_SECONDS = 10
DIGEST = "sha256"

# Printable (PDF/A) and outside every page (PDF/UA: an in-page widget would have to be
# tagged or hidden, and PDF/A forbids hidden).
INVISIBLE = fields.InvisSigSettings(set_print_flag=True, box_out_of_bounds=True)


class SealError(Exception):
    """The PDF could not be sealed (key, certificate, validation data)."""


class TimestampUnavailable(SealError):
    """The timestamp server gave no timestamp: nothing was sealed, try again later."""


def seal_pdf(pdf_bytes: bytes) -> bytes:
    """Seal a finished PDF with the portal's certificate and return the sealed bytes.

    A certification signature (DocMDP: no changes), timestamped and with validation
    data as the settings ask (see the module's docstring). The original bytes stay
    unchanged at the start of the result (incremental update). Raises
    ``TimestampUnavailable`` when a configured timestamp server fails, ``SealError``
    when the key or the validation data cannot be had.
    """
    signer = _load_signer()
    timestamper = _timestamper()
    context = signing_validation_context(signer) if timestamper and _trust_roots_file() else None
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        reason=SEAL_REASON,
        name=SEAL_SIGNER_NAME,
        md_algorithm=DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer,
        timestamper=timestamper,
        new_field_spec=fields.SigFieldSpec(
            SEAL_FIELD_NAME,
            invis_sig_settings=INVISIBLE,
            readable_field_name="Siegel des SLA-Portals",
        ),
    )

    async def seal() -> bytes:
        output = BytesIO()
        await pdf_signer.async_sign_pdf(_MetadataKeepingWriter(BytesIO(pdf_bytes)), output=output)
        if context is not None:
            [signature] = PdfFileReader(output).embedded_regular_signatures
            await _validation_data_add(output, [signature], context)
        return output.getvalue()

    return _run(seal(), context)


@dataclass(frozen=True)
class ArchiveTimestampResult:
    """A sealed PDF with a new document timestamp, and what that timestamp says."""

    pdf: bytes
    timestamped_at: datetime.datetime  # the timestamp's time (aware, UTC)
    authority: str  # the common name of the timestamp server's certificate


def pdf_archive_timestamp_add(pdf_bytes: bytes) -> ArchiveTimestampResult:
    """Add a document timestamp over a sealed PDF (PAdES B-LTA).

    First the validation data of every signature and timestamp already in the file goes
    into its DSS, then a document timestamp from ``SLA_SEAL_TIMESTAMP_URL`` covers all
    of it, then the new timestamp's own validation data follows. Repeated before the
    newest timestamp's certificate expires or its algorithms weaken, this keeps the seal
    provable indefinitely. Raises ``TimestampUnavailable`` or ``SealError``.
    """
    timestamper = _timestamper()
    if timestamper is None:
        raise SealError("An archive timestamp needs SLA_SEAL_TIMESTAMP_URL.")
    context = signing_validation_context(_load_signer())

    async def renew() -> bytes:
        output = BytesIO(pdf_bytes)
        reader = PdfFileReader(output)
        signatures = reader.embedded_signatures
        if not signatures:
            raise SealError("The PDF carries no seal to renew.")
        await _validation_data_add(output, signatures, context)

        number = len(PdfFileReader(output).embedded_timestamp_signatures) + 1
        stamper = signers.PdfTimeStamper(
            timestamper,
            field_name=f"{ARCHIVE_TIMESTAMP_FIELD_PREFIX}-{number}",
            invis_settings=INVISIBLE,
            readable_field_name="Archivzeitstempel",
        )
        # Without a validation context pyHanko writes no DSS of its own (its writer would
        # change the metadata): the timestamp's validation data follows below.
        await stamper.async_timestamp_pdf(_MetadataKeepingWriter(output), DIGEST, in_place=True)
        newest = PdfFileReader(output).embedded_timestamp_signatures[-1]
        await _validation_data_add(output, [newest], context, index=False)
        token = newest.signed_data["encap_content_info"]["content"].parsed
        return ArchiveTimestampResult(
            pdf=output.getvalue(),
            timestamped_at=token["gen_time"].native,
            authority=newest.signer_cert.subject.native.get("common_name", ""),
        )

    return _run(renew(), context)


async def _validation_data_add(output: BytesIO, signatures, context, *, index=True) -> None:
    """Append one revision whose DSS holds what validates ``signatures``.

    The certificate paths and revocation data are fetched now (the context's fetchers);
    ``index`` also files them under each signature (a VRI entry, as Adobe reads them).
    Nothing is written when the DSS holds all of it already.
    """
    writer = _MetadataKeepingWriter(output)
    changed = False
    for signature in signatures:
        paths = await collect_validation_info(signature, context)
        dss = DocumentSecurityStore.supply_dss_in_writer(
            writer,
            signature.pkcs7_content.hex().encode("ascii") if index else None,
            paths=paths,
            validation_context=context,
        )
        changed = changed or dss.modified
    if changed:
        writer.write_in_place()


def _run(coroutine, context: ValidationContext | None):
    """Run one seal or renewal to its end; pyHanko's errors become ``SealError``."""

    async def run_and_close():
        try:
            return await coroutine
        finally:
            if context is not None:
                await context.aclose()  # the fetchers' HTTP sessions

    try:
        return run_in_own_event_loop(run_and_close)
    except TimestampRequestError as error:
        url = settings.SLA_SEAL_TIMESTAMP_URL
        cause = error.__cause__ or error
        logger.error("Zeitstempel von %s fehlgeschlagen, nichts versiegelt: %s", url, cause)
        raise TimestampUnavailable(
            f"The timestamp server {url} gave no timestamp ({cause}); "
            "the PDF was not sealed, try again later."
        ) from error
    except (PathBuildingError, ValidationError) as error:
        logger.error("Validierungsdaten für das Siegel nicht erhältlich: %s", error)
        raise SealError(
            f"The certificates of the seal or the timestamp could not be validated ({error}). "
            "SLA_SEAL_TRUST_ROOTS_FILE must hold the root certificates they chain to, "
            "and their revocation servers must answer."
        ) from error
    except (SigningError, PdfError) as error:
        logger.error("Siegel fehlgeschlagen: %s", error)
        raise SealError(f"The PDF could not be sealed: {error}") from error


def run_in_own_event_loop(make_coroutine):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    # asyncio.run() refuses to run in a thread whose event loop is running (Playwright's
    # sync API in the browser tests, an ASGI loop). A thread of its own has none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make_coroutine()).result()


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


def _timestamper() -> HTTPTimeStamper | None:
    url = settings.SLA_SEAL_TIMESTAMP_URL
    return HTTPTimeStamper(url, timeout=TIMESTAMP_TIMEOUT_SECONDS) if url else None


def _trust_roots_file() -> Path | None:
    value = settings.SLA_SEAL_TRUST_ROOTS_FILE
    return Path(value) if value else None


def seal_trust_roots(signer: signers.SimpleSigner | None = None) -> list[asn1_x509.Certificate]:
    """The certificates a seal or timestamp must chain up to, to count as the portal's.

    The roots in ``SLA_SEAL_TRUST_ROOTS_FILE`` (the CAs of the seal and of the timestamp
    server), and the seal's own self-signed certificates: a development seal is its own
    root, and a PKCS#12 file may carry its CA. ``signer`` defaults to the configured one;
    without a loadable seal only the file's roots count.
    """
    roots = []
    file = _trust_roots_file()
    if file is not None:
        try:
            content = file.read_bytes()
        except OSError as error:
            raise ImproperlyConfigured(
                f"SLA_SEAL_TRUST_ROOTS_FILE {file} cannot be read: {error}"
            ) from error
        blocks = (
            [der for _, _, der in pem.unarmor(content, multiple=True)]
            if pem.detect(content)
            else [content]
        )
        roots += [asn1_x509.Certificate.load(der) for der in blocks]
    if signer is None:
        try:
            signer = _load_signer()
        except (ImproperlyConfigured, SealError):
            signer = None
    if signer is not None:
        chain = [signer.signing_cert, *signer.cert_registry]
        roots += [cert for cert in chain if cert is not None and cert.self_signed != "no"]
    return roots


def seal_certificate() -> asn1_x509.Certificate | None:
    """The configured seal's certificate; None when the seal cannot be loaded."""
    try:
        return _load_signer().signing_cert
    except (ImproperlyConfigured, SealError):
        return None


def signing_validation_context(signer: signers.SimpleSigner) -> ValidationContext:
    """Where sealing gathers validation data: the trust roots, revocation data fetched now.

    Hard-fail: a certificate that names a revocation server which does not answer makes
    the seal fail (and its task retry) rather than embed incomplete data.
    """
    return ValidationContext(
        trust_roots=seal_trust_roots(signer),
        other_certs=list(signer.cert_registry),
        allow_fetching=True,
        revocation_mode="hard-fail",
    )


def _passphrase() -> bytes | None:
    value = settings.SLA_SEAL_PASSPHRASE
    return value.encode() if value else None


def _load_signer() -> signers.SimpleSigner:
    """The seal's signer, loaded once per process and again when a file or the passphrase changes.

    Loading parses the key (and decrypts it with the passphrase): some 90 ms, a tenth of
    a whole completion (bench/, issue 7); a seal with the kept signer is 1.4 times as
    fast as one that loads it (bench/caches.py, bench/results.md "Caches"). A renewed
    certificate is picked up at the next seal: the cache key holds each file's inode, size
    and modification time.
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
