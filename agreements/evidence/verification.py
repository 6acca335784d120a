"""Is this PDF a signed SLA of this portal, and what does it prove? The verify page's answer.

``signed_pdf_verify`` checks an uploaded file two ways and explains both:

- against the portal's records: its SHA-256 is that of a signed PDF the portal stored,
  or of a later version with an archive timestamp (``ArchiveTimestamp``), so any
  changed byte makes it unknown; and the signed content embedded in it has the hash
  the parties signed;
- by itself, as anyone could check it outside the portal (``checks``): the seal, its
  certification, its timestamps. The file is parsed in a child process whose memory
  and CPU time are capped (``agreements.sandbox``); a file that needs more is not
  authentic, and says so.

Authentic means the portal stored exactly this file and no check failed. Each check
says, in German (or English), what was checked and why a file fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..archive import CHUNK_SIZE, sha256_of, signature_rows
from ..enums import SIGNED_STATUSES
from ..models import Agreement
from ..pdf import CONTENT_FILE_NAME, SignatureRow
from ..sandbox import LimitExceeded, run_capped
from .checks import SEAL, Check, Outcome, PdfEvidence, local_time, pdf_evidence_read
from .models import ArchiveTimestamp

FILE = gettext_lazy("Datei")
CONTENT = gettext_lazy("Unterzeichneter Inhalt")


@dataclass(frozen=True)
class PdfVerification:
    """What the verify page and ``verify_pdf`` answer for one file."""

    sha256: str
    agreement: Agreement | None  # the signed agreement whose stored PDF has this hash
    signatures: tuple[SignatureRow, ...] = ()
    checks: tuple[Check, ...] = ()
    # The archive timestamp whose version this file is; None for the PDF as sealed.
    archive_timestamp: ArchiveTimestamp | None = None

    @property
    def authentic(self) -> bool:
        return self.agreement is not None and not any(check.failed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.failed]


def signed_pdf_verify(file) -> PdfVerification:
    """Check ``file`` (a seekable binary file: an upload, an open file) as described above."""
    file.seek(0)
    digest = sha256_of(iter(lambda: file.read(CHUNK_SIZE), b""))
    agreement, archive_timestamp = _stored_version(digest)
    file.seek(0)
    evidence = _evidence_capped(file)
    checks = [
        _file_check(agreement, archive_timestamp),
        *evidence.checks,
        _content_check(agreement, evidence.content_sha256),
    ]
    return PdfVerification(
        sha256=digest,
        agreement=agreement,
        signatures=tuple(signature_rows(agreement)) if agreement else (),
        checks=tuple(check for check in checks if check is not None),
        archive_timestamp=archive_timestamp,
    )


def _evidence_capped(file) -> PdfEvidence:
    """``pdf_evidence_read`` in a child whose memory and CPU time are capped (sandbox).

    Hashing the file costs only its reading; parsing a hostile one could cost gigabytes.
    """
    try:
        return run_capped(pdf_evidence_read, file)
    except LimitExceeded:
        return PdfEvidence(
            checks=(
                Check(
                    SEAL,
                    Outcome.FAILED,
                    _(
                        "Die Datei ist zu komplex, um sie zu prüfen: ihr Lesen bräuchte mehr "
                        "Speicher oder Rechenzeit, als das Portal einer hochgeladenen Datei gibt."
                    ),
                ),
            )
        )


def _stored_version(digest: str) -> tuple[Agreement | None, ArchiveTimestamp | None]:
    agreement = (
        Agreement.objects.filter(signed_pdf_sha256=digest, status__in=SIGNED_STATUSES)
        .select_related("organisation")
        .first()
    )
    if agreement is not None:
        return agreement, None
    archive_timestamp = (
        ArchiveTimestamp.objects.filter(pdf_sha256=digest, agreement__status__in=SIGNED_STATUSES)
        .select_related("agreement__organisation")
        .first()
    )
    if archive_timestamp is not None:
        return archive_timestamp.agreement, archive_timestamp
    return None, None


def _file_check(agreement, archive_timestamp) -> Check:
    if agreement is None:
        return Check(
            FILE,
            Outcome.FAILED,
            _(
                "Kein vom Portal abgelegtes PDF hat genau diesen Inhalt (SHA-256 unten): die "
                "Datei wurde nach der Ablage verändert, oder sie stammt nicht vom Portal."
            ),
        )
    if archive_timestamp is not None:
        return Check(
            FILE,
            Outcome.PASSED,
            _(
                "Byte für Byte das unterzeichnete PDF, wie es das Portal am %(date)s mit "
                "einem Archivzeitstempel abgelegt hat."
            )
            % {"date": local_time(archive_timestamp.created_at)},
        )
    return Check(
        FILE,
        Outcome.PASSED,
        _("Byte für Byte das unterzeichnete PDF, wie es das Portal am %(date)s abgelegt hat.")
        % {"date": local_time(agreement.signed_pdf_stored_at)},
    )


def _content_check(agreement, content_sha256: str | None) -> Check | None:
    """The embedded signed content against the hash the parties signed."""
    if agreement is None:
        return None  # nothing to compare with; the file check has failed already
    if content_sha256 is None:
        return Check(
            CONTENT,
            Outcome.NOTE,
            _(
                "Die Datei enthält den unterzeichneten Inhalt nicht als Anhang (sie wurde "
                "abgelegt, bevor das Portal ihn einbettete)."
            ),
        )
    values = {"file": CONTENT_FILE_NAME, "sha256": agreement.content_sha256}
    if content_sha256 != agreement.content_sha256:
        return Check(
            CONTENT,
            Outcome.FAILED,
            _(
                "Der eingebettete Inhalt (%(file)s) hat nicht den SHA-256, den die Parteien "
                "unterzeichnet haben."
            )
            % values,
        )
    return Check(
        CONTENT,
        Outcome.PASSED,
        _(
            "Der eingebettete Inhalt (%(file)s) hat den SHA-256 aus dem Prüfprotokoll, den die "
            "Parteien unterzeichnet haben: %(sha256)s."
        )
        % values,
    )
