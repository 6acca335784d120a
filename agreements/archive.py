"""The signed PDF, stored once: rendered with the real signatures, sealed, kept, verified.

When the second signature completes an agreement, ``workflow._after_completion`` calls
``signed_pdf_store``. It renders the document once, with the signature block and the
"Prüfprotokoll" filled from the same Signature rows, seals it (``agreements.seal``),
saves the bytes through Django's storage API (``STORAGES["default"]``: the private media
directory by default, S3 or another backend in production) together with their SHA-256,
and records a ``pdf_stored`` audit event. From then on the stored bytes *are* the signed
document: a download streams them after checking their hash (``signed_pdf_open``), the
verify page recognises a copy by the same hash (``agreements.evidence.verification``),
and nothing renders a signed agreement a second time. Archive timestamps append to a
copy, never to this file (``agreements.evidence.archive_timestamps``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .audit import RequestMeta, audit_record
from .enums import AgreementStatus, AuditAction
from .models import Agreement, Signature
from .pdf import AuditPageData, PdfRenderError, SignatureRow, render_agreement_pdf
from .seal import SealError, seal_pdf
from .snapshot import canonical_json

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
SIGNED_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.SUPERSEDED)

# German umlauts are written out in file names, as Swiss German does without them.
TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


class SignedPdfError(Exception):
    """The signed PDF could not be produced (render, seal, configuration, content)."""


class SignedPdfMismatch(SignedPdfError):
    """The stored file is missing or no longer has the SHA-256 recorded when it was stored."""


def signature_rows(agreement: Agreement) -> list[SignatureRow]:
    """The agreement's valid signatures, oldest first, with each signer's job title."""
    signatures = (
        Signature.objects.valid()
        .with_job_title()
        .filter(agreement_id=agreement.pk)
        .select_related("user")
        .order_by("signed_at")
    )
    return [SignatureRow.from_signature(signature) for signature in signatures]


def verify_url() -> str:
    """The absolute address of the verify page, as the audit page prints it."""
    return settings.SLA_SITE_URL + reverse("pdf_verify")


def signed_render_inputs(agreement: Agreement) -> dict:
    """What the signed PDF is rendered with besides the agreement: its valid signatures
    (the signature block) and the audit page; ``render_agreement_pdf``'s keywords."""
    rows = signature_rows(agreement)
    audit_page = AuditPageData(
        agreement_id=agreement.pk,
        revision=agreement.revision,
        content_sha256=agreement.content_sha256,
        verify_url=verify_url(),
        signatures=rows,
        content_json=canonical_json(agreement.content_snapshot),
    )
    return {"signatures": rows, "audit_page": audit_page}


def signed_pdf_store(*, agreement_id: int) -> Agreement:
    """Render, seal and store the signed PDF of a signed agreement, once; return it.

    Does nothing when the PDF is stored already. The agreement's row stays locked from
    the check to the commit, so two callers (the completion hook and a download that
    found no PDF yet) never store two files: the second waits and finds the first's.
    Call it outside other transactions: a file saved for a transaction that rolls back
    later would be left behind. Raises ``SignedPdfError`` when the agreement is not
    signed, its content no longer matches what was signed, or rendering or sealing fails.
    """
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.signed_pdf:
            return agreement
        if agreement.status not in SIGNED_STATUSES:
            raise SignedPdfError(f"Agreement {agreement_id} is not signed ({agreement.status}).")
        # The PDF must show what the parties signed; the workflow checked the same at signing.
        if agreement.content_hash() != agreement.content_sha256:
            raise SignedPdfError(
                f"Agreement {agreement_id}: the content no longer matches the signed version."
            )
        try:
            pdf = seal_pdf(render_agreement_pdf(agreement, **signed_render_inputs(agreement)))
        except (PdfRenderError, SealError, ImproperlyConfigured) as error:
            raise SignedPdfError(f"Agreement {agreement_id}: {error}") from error

        digest = hashlib.sha256(pdf).hexdigest()
        agreement.signed_pdf.save("signed.pdf", ContentFile(pdf), save=False)
        try:
            agreement.signed_pdf_sha256 = digest
            agreement.signed_pdf_stored_at = timezone.now()
            # Not updated_at: storing the PDF changes nothing the parties agreed on.
            agreement.save(
                update_fields=["signed_pdf", "signed_pdf_sha256", "signed_pdf_stored_at"]
            )
            audit_record(
                agreement=agreement,
                action=AuditAction.PDF_STORED,
                actor=None,
                meta=RequestMeta(),
                details={"sha256": digest, "size": len(pdf)},
            )
        except BaseException:
            # The row will not point at the file: do not leave it behind.
            agreement.signed_pdf.delete(save=False)
            raise
    return agreement


def signed_pdf_open(agreement: Agreement, *, file=None, sha256: str | None = None) -> File:
    """The stored PDF, opened for reading at its start, after checking its SHA-256.

    Reads the file once in chunks (never whole into memory) and compares the hash with
    the one recorded when it was stored. Raises ``SignedPdfMismatch``, and logs an error,
    when the file is missing or differs: a changed file is never served as the signed one.
    ``file`` and ``sha256`` name a later version of the PDF instead (an archive
    timestamp's, ``agreements.evidence``); by default the one stored on completion.

    A file this process has hashed already is not read again while it is provably the
    same file (``_file_stamp``): hashing 20 MB takes longer than serving them (issue 7).
    """
    file, sha256 = file or agreement.signed_pdf, sha256 or agreement.signed_pdf_sha256
    name = file.name
    storage = file.storage
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError as error:
        logger.error("Signed PDF of agreement %s is missing from storage: %s", agreement.pk, name)
        raise SignedPdfMismatch(f"{name} is missing") from error
    key = (name, sha256)
    stamp = _file_stamp(storage, name, handle)
    if stamp is not None and _verified.get(key) == stamp:
        return handle
    try:
        _hash_check(agreement, handle, name, sha256)
    except SignedPdfMismatch:
        handle.close()
        _verified.pop(key, None)
        raise
    if stamp is not None:
        if len(_verified) >= VERIFIED_MAX:
            _verified.clear()
        _verified[key] = stamp
    handle.seek(0)
    return handle


def signed_pdf_check(agreement: Agreement, *, file=None, sha256: str | None = None) -> None:
    """Read the whole stored file and compare its SHA-256, whatever this process knows.

    For ``verify_audit``, which checks every stored PDF (``file`` and ``sha256`` as for
    ``signed_pdf_open``); raises ``SignedPdfMismatch``.
    """
    file, sha256 = file or agreement.signed_pdf, sha256 or agreement.signed_pdf_sha256
    name = file.name
    try:
        handle = file.storage.open(name, "rb")
    except FileNotFoundError as error:
        logger.error("Signed PDF of agreement %s is missing from storage: %s", agreement.pk, name)
        raise SignedPdfMismatch(f"{name} is missing") from error
    with handle:
        _hash_check(agreement, handle, name, sha256)


def _hash_check(agreement: Agreement, handle: File, name: str, sha256: str) -> None:
    digest = sha256_of(handle.chunks(CHUNK_SIZE))
    if digest != sha256:
        logger.error(
            "Signed PDF of agreement %s does not match its SHA-256: stored %s, file %s (%s)",
            agreement.pk,
            sha256,
            digest,
            name,
        )
        raise SignedPdfMismatch(f"{name} does not match its SHA-256")


# Signed PDFs this process found intact: (name, SHA-256) -> the file's stamp at the time.
_verified: dict[tuple[str, str], tuple] = {}
VERIFIED_MAX = 100_000  # some 20 MB of memory at most


def _file_stamp(storage, name: str, handle: File) -> tuple | None:
    """What changes whenever the file's content can have changed; None if unknown.

    On a local disk: inode, size and the inode's change time. Unlike the modification
    time, the change time cannot be set back by whoever rewrites the file (``touch``
    sets it to now): only a new clock could. Elsewhere (S3 and other backends): size and
    last modification as the storage reports them, which its clients cannot set. A
    storage that reports neither gets its files hashed on every download.
    """
    try:
        status = os.fstat(handle.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    else:
        return ("local", status.st_dev, status.st_ino, status.st_size, status.st_ctime_ns)
    try:
        return ("storage", storage.size(name), storage.get_modified_time(name))
    except (NotImplementedError, OSError):
        return None


def sha256_of(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def signed_pdf_filename(agreement: Agreement, *, draft: bool = False) -> str:
    """The German download name: "SLA_Muster-AG_2027_unterzeichnet.pdf" (or "_Entwurf")."""
    parts = ["SLA", _file_name_part(agreement.organisation.name)]
    if agreement.start_date:
        parts.append(str(agreement.start_date.year))
    parts.append("Entwurf" if draft else "unterzeichnet")
    return "_".join(part for part in parts if part) + ".pdf"


def _file_name_part(text: str) -> str:
    """ASCII letters, digits and single hyphens: "Müller & Söhne AG" -> "Mueller-Soehne-AG"."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(TRANSLITERATION))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")
