"""Downloading the signed PDF: the stored bytes after their check, each download in the trail.

The download view calls ``signed_pdf_download`` and turns its answer into a response.
A PDF that is not stored yet is never made in the request: its task is enqueued
unless one is waiting or running already (``tasks.jobs.signed_pdf_ensure``), and the
caller learns that it is pending, or that its task has failed for good.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.core.files import File
from django.db import transaction

from . import archive
from .audit import RequestMeta, audit_record
from .enums import SIGNED_STATUSES, AuditAction
from .evidence.archive_timestamps import signed_pdf_newest
from .models import Agreement
from .tasks.engine import TaskState, task_state
from .tasks.jobs import signed_pdf_ensure, signed_pdf_task

logger = logging.getLogger(__name__)

STORED_FIELDS = ("signed_pdf", "signed_pdf_sha256", "signed_pdf_stored_at")


class SignedPdfPending(archive.SignedPdfError):
    """Not stored yet: its task is waiting or running, or (``failed``) has given up."""

    def __init__(self, agreement_id: int, *, failed: bool):
        state = "failed for good" if failed else "is pending"
        super().__init__(f"Signed PDF of agreement {agreement_id}: its task {state}.")
        self.failed = failed


class SignedPdfUnavailable(archive.SignedPdfError):
    """The storage cannot be read just now (``OSError``: permissions, a disk, a service)."""


class PdfState(enum.StrEnum):
    """What the agreement page offers: a preview, the stored PDF, or word of its making."""

    PREVIEW = "preview"  # not signed: the draft's preview
    STORED = "stored"
    PENDING = "pending"  # signed, its task waiting, running or to be retried
    FAILED = "failed"  # signed, its task failed for good; a download tries again


def signed_pdf_state(agreement: Agreement) -> PdfState:
    """Where the agreement's PDF stands; asks the task table only while it is not stored."""
    if agreement.status not in SIGNED_STATUSES:
        return PdfState.PREVIEW
    if agreement.signed_pdf:
        return PdfState.STORED
    if task_state(signed_pdf_task, agreement_id=agreement.pk) is TaskState.FAILED:
        return PdfState.FAILED
    return PdfState.PENDING


@dataclass(frozen=True)
class SignedPdfDownload:
    """What the response streams: the open stored file, and its German download name."""

    handle: File
    filename: str


def signed_pdf_download(*, agreement: Agreement, user, meta: RequestMeta) -> SignedPdfDownload:
    """The stored signed PDF of ``agreement``, checked and opened, its download audited.

    Raises ``SignedPdfPending`` when it is not stored (its task enqueued if none was),
    ``archive.SignedPdfMismatch`` when the stored file is missing or changed (logged by
    ``archive.signed_pdf_open``), ``SignedPdfUnavailable`` when the storage fails.
    The permission check is the caller's (``permissions.get_agreement_for``).
    """
    if not agreement.signed_pdf:
        state = signed_pdf_ensure(agreement_id=agreement.pk)
        # With the immediate backend (tests, a single process) the task has run by now.
        agreement.refresh_from_db(fields=STORED_FIELDS)
        if not agreement.signed_pdf:
            raise SignedPdfPending(agreement.pk, failed=state is TaskState.FAILED)
    # With archive timestamps (PAdES B-LTA) the newest version holds the most evidence.
    version = signed_pdf_newest(agreement)
    try:
        handle = archive.signed_pdf_open(agreement, file=version.file, sha256=version.sha256)
    except OSError as error:
        logger.error("Signed PDF of agreement %s cannot be read: %r", agreement.pk, error)
        raise SignedPdfUnavailable(f"Agreement {agreement.pk}: {error!r}") from error
    try:
        with transaction.atomic():
            audit_record(
                agreement=agreement,
                action=AuditAction.PDF_DOWNLOADED,
                actor=user,
                meta=meta,
                details={"sha256": version.sha256},
            )
    except BaseException:
        handle.close()
        raise
    return SignedPdfDownload(handle=handle, filename=archive.signed_pdf_filename(agreement))
