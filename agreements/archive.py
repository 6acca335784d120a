"""The signed PDF, stored once: rendered with the real signatures, sealed, kept, verified.

When the second signature completes an agreement, the workflow enqueues the task
``agreements.tasks.jobs.signed_pdf_task``, which calls ``signed_pdf_store``. It renders
the document once, with the signature block and the "Prüfprotokoll" filled from the
same Signature rows, seals it (``agreements.seal``), writes the bytes whole or not at all
through Django's storage API (``STORAGES["default"]``: the private media directory by
default, S3 or another backend in production; ``storage_save_whole``) and records their
SHA-256 and a ``pdf_stored`` audit event. From then on the stored bytes *are* the signed
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
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .audit import RequestMeta, audit_record
from .enums import SIGNED_STATUSES, AuditAction
from .models import Agreement, AuditEvent, Signature
from .pdf import AuditPageData, PdfRenderError, SignatureRow, render_agreement_pdf
from .seal import SealError, seal_pdf
from .snapshot import canonical_json

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024

# German umlauts are written out in file names, as Swiss German does without them.
TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


# Names of stored PDFs: one per agreement and signed content (``signed_pdf_name``).
SIGNED_PDF_NAMESPACE = uuid.UUID("0f6d3c2e-8a4b-4f0e-9d3c-5a1b7e2f4c60")


class SignedPdfError(Exception):
    """The signed PDF could not be produced (render, seal, timestamp, storage, configuration)."""


class SignedPdfRefused(SignedPdfError):
    """No signed PDF may be made: the agreement is not signed, or its content has changed."""


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
    # The comment threads as the submission froze them with the text (its audit event).
    submitted = (
        AuditEvent.objects.filter(agreement_id=agreement.pk, action=AuditAction.SUBMITTED)
        .order_by("-sequence")
        .values_list("details", flat=True)
        .first()
    ) or {}
    audit_page = AuditPageData(
        agreement_id=agreement.pk,
        revision=agreement.revision,
        content_sha256=agreement.content_sha256,
        verify_url=verify_url(),
        signatures=rows,
        content_json=canonical_json(agreement.content_snapshot),
        comment_threads=submitted.get("comment_threads", 0),
        open_threads=submitted.get("open_threads", 0),
    )
    return {"signatures": rows, "audit_page": audit_page}


def signed_pdf_store(*, agreement_id: int) -> Agreement:
    """Render, seal and store the signed PDF of a signed agreement, once; return it.

    Does nothing when the PDF is stored already. The agreement's row stays locked from
    the check to the commit, so two runs of the task (a retry, a worker presumed dead)
    never store two files: the second waits and finds the first's. The file's name is
    the same on every attempt (``signed_pdf_name``), so a file left by an attempt that
    died between writing it and committing is replaced, not joined by a second one.
    Call it outside other transactions: a file saved for a transaction that rolls back
    later would be left behind. Raises ``SignedPdfRefused`` when the agreement is not
    signed or its content no longer matches what was signed, ``SignedPdfError`` when
    rendering, sealing, timestamping or writing fails.
    """
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.signed_pdf:
            return agreement
        if agreement.status not in SIGNED_STATUSES:
            raise SignedPdfRefused(f"Agreement {agreement_id} is not signed ({agreement.status}).")
        # The PDF must show what the parties signed; the workflow checked the same at signing.
        if agreement.content_hash() != agreement.content_sha256:
            raise SignedPdfRefused(
                f"Agreement {agreement_id}: the content no longer matches the signed version."
            )
        try:
            pdf = seal_pdf(render_agreement_pdf(agreement, **signed_render_inputs(agreement)))
        except (PdfRenderError, SealError, ImproperlyConfigured) as error:
            raise SignedPdfError(f"Agreement {agreement_id}: {error}") from error

        digest = hashlib.sha256(pdf).hexdigest()
        storage = agreement.signed_pdf.storage
        try:
            agreement.signed_pdf = storage_save_whole(storage, signed_pdf_name(agreement), pdf)
        except OSError as error:  # a full disk, a read-only folder, a storage service down
            raise SignedPdfError(f"Agreement {agreement_id}: not stored: {error!r}") from error
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


def signed_pdf_name(agreement: Agreement) -> str:
    """Where the signed PDF is stored: the same name for every attempt to store it.

    Made from the agreement and the content it signed, so it is unique per signed
    document and tells nothing of its content (the media folder is never served).
    """
    name = uuid.uuid5(SIGNED_PDF_NAMESPACE, f"{agreement.pk}:{agreement.content_sha256}")
    return f"signed/{name.hex}.pdf"


def storage_save_whole(storage, name: str, content: bytes) -> str:
    """Write ``content`` as ``name`` in ``storage``, whole or not at all; return the name.

    On a local disk the bytes go to a temporary file beside the target (``.NAME.part``),
    are flushed to the disk, and the file is then renamed over the target, which is
    atomic: a reader, or a crash, finds either nothing or the whole file. A failed write
    removes its temporary file; one left by a killed process is overwritten by the next
    attempt, whose name is the same. An existing file of that name is replaced: the
    caller holds the lock that makes it the only writer. Object stores (S3 and the like)
    publish an upload only once it is complete, so there the storage's own ``save``
    is used, after deleting what an earlier attempt may have left.
    Raises ``OSError`` when the storage fails (full, read-only, unreachable).
    """
    try:
        path = Path(storage.path(name))
    except NotImplementedError:
        if storage.exists(name):
            storage.delete(name)
        return storage.save(name, ContentFile(content))
    directory_mode = getattr(storage, "directory_permissions_mode", None) or 0o777
    path.parent.mkdir(mode=directory_mode, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    file_mode = getattr(storage, "file_permissions_mode", None) or 0o666
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return name


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` survive a power cut (where the system allows it)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


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
