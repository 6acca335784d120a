"""Archive timestamps: keeping a signed agreement's seal provable for decades (B-LTA).

A seal is checked against its certificate, the timestamp against the timestamp server's;
both expire, and hash algorithms weaken. A document timestamp over the sealed PDF and its
validation data, renewed before the newest one expires, carries the proof forward:
``archive_timestamp_add`` adds one to the newest stored version of an agreement's PDF
and stores the result as a new ``ArchiveTimestamp`` (the stored signed PDF itself is
never replaced). ``archive_timestamps_due`` says which agreements need one; ``manage.py
add_archive_timestamps`` runs both, from cron.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from io import BytesIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import extract_certificate_info, find_cms_attribute_iter

from ..archive import SignedPdfError, SignedPdfMismatch
from ..audit import RequestMeta, audit_record
from ..enums import SIGNED_STATUSES, AuditAction
from ..models import Agreement
from ..seal import pdf_archive_timestamp_add
from .models import ArchiveTimestamp

TIMESTAMP_ATTRIBUTE = "signature_time_stamp_token"  # the seal's timestamp (PAdES B-T)


@dataclass(frozen=True)
class PdfVersion:
    """One stored version of an agreement's sealed PDF: its file and recorded SHA-256."""

    file: object  # a FieldFile
    sha256: str
    archive_timestamp: ArchiveTimestamp | None  # None: the PDF as sealed on completion

    @property
    def name(self) -> str:
        return self.file.name


def signed_pdf_newest(agreement: Agreement) -> PdfVersion:
    """The newest stored version of the agreement's sealed PDF (one query)."""
    newest = (
        ArchiveTimestamp.objects.filter(agreement_id=agreement.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    if newest is None:
        return PdfVersion(agreement.signed_pdf, agreement.signed_pdf_sha256, None)
    return PdfVersion(newest.pdf, newest.pdf_sha256, newest)


def archive_timestamp_add(*, agreement_id: int) -> ArchiveTimestamp:
    """Add a document timestamp to the newest version of a signed agreement's PDF.

    Reads that version and checks its recorded SHA-256 first (a changed file is never
    renewed), has ``agreements.seal`` append its validation data and a timestamp, stores
    the result and records an ``archive_timestamp_added`` audit event. The agreement's
    row stays locked meanwhile, so two renewals never fork the chain. Raises
    ``SignedPdfError`` (``SignedPdfMismatch`` for a changed file) or ``SealError``
    (``TimestampUnavailable`` when the timestamp server fails: nothing is stored).
    """
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status not in SIGNED_STATUSES or not agreement.signed_pdf:
            raise SignedPdfError(f"Agreement {agreement_id} has no stored signed PDF.")
        version = signed_pdf_newest(agreement)
        with version.file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != version.sha256:
            raise SignedPdfMismatch(f"{version.name} does not match its SHA-256")

        result = pdf_archive_timestamp_add(content)
        digest = hashlib.sha256(result.pdf).hexdigest()
        stamp = ArchiveTimestamp(
            agreement=agreement,
            pdf_sha256=digest,
            timestamped_at=result.timestamped_at,
            timestamp_authority=result.authority[:300],
            created_at=timezone.now(),
        )
        stamp.pdf.save("archive.pdf", ContentFile(result.pdf), save=False)
        try:
            stamp.full_clean(exclude=["pdf"])
            stamp.save()
            audit_record(
                agreement=agreement,
                action=AuditAction.ARCHIVE_TIMESTAMP_ADDED,
                actor=None,
                meta=RequestMeta(),
                details={
                    "sha256": digest,
                    "previous_sha256": version.sha256,
                    "size": len(result.pdf),
                    "timestamped_at": result.timestamped_at.isoformat(),
                    "timestamp_authority": result.authority,
                },
            )
        except BaseException:
            stamp.pdf.delete(save=False)  # the row will not point at it
            raise
    return stamp


def archive_timestamps_due(
    *, renew_within: datetime.timedelta, now: datetime.datetime | None = None
) -> list[int]:
    """The signed agreements whose PDF needs an archive timestamp, by id.

    Due is a PDF without any timestamp (sealed without a timestamp server), or one whose
    newest timestamp's certificate expires within ``renew_within``: the next timestamp
    must be made while the last one can still be validated.
    """
    now = now or timezone.now()
    due = []
    agreements = (
        Agreement.objects.filter(status__in=SIGNED_STATUSES)
        .exclude(signed_pdf="")
        .only("pk", "signed_pdf", "signed_pdf_sha256")
        .order_by("pk")
    )
    for agreement in agreements.iterator():
        version = signed_pdf_newest(agreement)
        with version.file.open("rb") as handle:
            expires = _newest_timestamp_expiry(handle.read())
        if expires is None or expires - now <= renew_within:
            due.append(agreement.pk)
    return due


def _newest_timestamp_expiry(pdf: bytes) -> datetime.datetime | None:
    """When the certificate of the PDF's newest timestamp expires; None without one."""
    reader = PdfFileReader(BytesIO(pdf))
    if reader.embedded_timestamp_signatures:
        certificate = reader.embedded_timestamp_signatures[-1].signer_cert
    else:
        seals = reader.embedded_regular_signatures
        tokens = (
            list(
                find_cms_attribute_iter(seals[0].signer_info["unsigned_attrs"], TIMESTAMP_ATTRIBUTE)
            )
            if seals
            else []
        )
        if not tokens:
            return None
        certificate = extract_certificate_info(tokens[0]["content"]).signer_cert
    return certificate.not_valid_after
