"""What a PDF proves by itself, checked with pyHanko as a reader outside the portal would.

``pdf_evidence_read`` reads a file once and answers, each as a ``Check`` with a German
explanation (English through the catalogue) for the verify page and ``verify_pdf``:

- Siegel: does the file carry a seal, intact, made with the portal's certificate?
- Zertifizierung: is the seal a certification that allows no changes, and was nothing
  but validation data and archive timestamps appended after it?
- Zeitstempel: does a timestamp server vouch for the time of the seal?
- Archivzeitstempel (when present): do the document timestamps hold?

It also reads the signed content embedded in the file (``SLA-Inhalt.json``) and hashes
it; ``agreements.archive`` compares that with the agreement it finds.

Only the file and the portal's trust roots count (``agreements.seal.seal_trust_roots``):
nothing is fetched, so an uploaded file cannot make the portal call the addresses it
names. Unreadable or hostile files give failed checks, never an error.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import logging
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext

from ..document import SWISS_TIME_ZONE
from ..pdf import CONTENT_FILE_NAME
from ..seal import run_in_own_event_loop, seal_certificate, seal_trust_roots

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOTE = "note"  # nothing wrong, but less evidence than a current seal carries


OUTCOME_LABELS = {
    Outcome.PASSED: gettext_lazy("erfüllt"),
    Outcome.FAILED: gettext_lazy("nicht erfüllt"),
    Outcome.NOTE: gettext_lazy("Hinweis"),
}

SEAL = gettext_lazy("Siegel")
CERTIFICATION = gettext_lazy("Zertifizierung")
TIMESTAMP = gettext_lazy("Zeitstempel")
ARCHIVE_TIMESTAMPS = gettext_lazy("Archivzeitstempel")


@dataclass(frozen=True)
class Check:
    """One question about a file, its outcome, and why, in a sentence or two."""

    title: str
    outcome: Outcome
    explanation: str

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


@dataclass(frozen=True)
class PdfEvidence:
    """What ``pdf_evidence_read`` found: the checks, and the embedded content's hash."""

    checks: tuple[Check, ...]
    content_sha256: str | None = None  # of SLA-Inhalt.json; None when it is not inside


def pdf_evidence_read(stream) -> PdfEvidence:
    """Check the seal, certification and timestamps of the PDF in ``stream`` (seekable)."""
    try:
        reader = PdfFileReader(stream)
        seals = reader.embedded_regular_signatures
        document_timestamps = reader.embedded_timestamp_signatures
    except Exception as error:  # a hostile file may break the parser in any way
        logger.info("PDF for checking not readable: %r", error)
        return PdfEvidence(
            checks=(
                Check(
                    SEAL,
                    Outcome.FAILED,
                    _("Die Datei lässt sich nicht als PDF lesen; ein Siegel ist nicht zu finden."),
                ),
            )
        )
    content_sha256 = _embedded_content_sha256(reader)
    if not seals:
        return PdfEvidence(
            checks=(
                Check(
                    SEAL,
                    Outcome.FAILED,
                    _(
                        "Die Datei trägt kein Siegel: sie wurde nie versiegelt, oder das "
                        "Siegel wurde entfernt."
                    ),
                ),
            ),
            content_sha256=content_sha256,
        )
    roots = seal_trust_roots()
    try:
        status = run_in_own_event_loop(lambda: _seal_status(seals[0], reader, roots))
    except Exception as error:
        logger.info("Seal of an uploaded PDF not checkable: %r", error)
        return PdfEvidence(
            checks=(
                Check(
                    SEAL,
                    Outcome.FAILED,
                    _("Das Siegel ist beschädigt und lässt sich nicht prüfen."),
                ),
            ),
            content_sha256=content_sha256,
        )
    checks = [
        _seal_check(status),
        _certification_check(seals, status),
        _timestamp_check(status),
    ]
    if document_timestamps:
        checks.append(_archive_timestamps_check(document_timestamps, reader, roots))
    return PdfEvidence(checks=tuple(checks), content_sha256=content_sha256)


# --- Seal, certification, timestamp -------------------------------------------------------


def _context(reader, roots, moment: datetime.datetime | None = None) -> ValidationContext:
    """The portal's roots with the file's own validation data (its DSS); no fetching."""
    options = {
        "trust_roots": roots,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
        **({"moment": moment} if moment else {}),
    }
    try:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(options)
    except NoDSSFoundError:
        return ValidationContext(**options)


async def _seal_status(seal, reader, roots):
    status = await async_validate_pdf_signature(seal, _context(reader, roots))
    timestamp = status.timestamp_validity
    if (
        not status.trusted
        and _trusted(timestamp)
        and status.signing_cert.not_valid_after < timezone.now()
    ):
        # The certificate has expired since: what counts is that it was valid when the
        # timestamp server saw the seal (PAdES B-T and later).
        status = await async_validate_pdf_signature(
            seal, _context(reader, roots, moment=timestamp.timestamp)
        )
    return status


def _trusted(status) -> bool:
    return status is not None and status.intact and status.valid and status.trusted


def _seal_check(status) -> Check:
    certificate = status.signing_cert
    subject = _common_name(certificate.subject)
    issuer = _common_name(certificate.issuer)
    if not status.intact:
        return Check(
            SEAL,
            Outcome.FAILED,
            _("Das Siegel ist gebrochen: was es versiegelt, wurde nach dem Versiegeln verändert."),
        )
    if not status.valid:
        return Check(SEAL, Outcome.FAILED, _("Die Signatur des Siegels ist ungültig."))
    if status.revoked:
        return Check(
            SEAL,
            Outcome.FAILED,
            _("Das Zertifikat des Siegels („%(subject)s“) ist gesperrt.") % {"subject": subject},
        )
    if not status.trusted and certificate.not_valid_after < timezone.now():
        # _seal_status validated at the timestamp's time already, had there been one.
        return Check(
            SEAL,
            Outcome.FAILED,
            _(
                "Das Zertifikat des Siegels („%(subject)s“) ist am %(date)s abgelaufen, und "
                "kein gültiger Zeitstempel belegt, dass das Siegel vorher gesetzt wurde."
            )
            % {"subject": subject, "date": local_time(certificate.not_valid_after)},
        )
    expected = seal_certificate()
    if not status.trusted or (expected is not None and certificate.subject != expected.subject):
        return Check(
            SEAL,
            Outcome.FAILED,
            _(
                "Das Siegel ist unversehrt, stammt aber nicht vom Zertifikat des Portals: "
                "ausgestellt für „%(subject)s“ von „%(issuer)s“."
            )
            % {"subject": subject, "issuer": issuer},
        )
    return Check(
        SEAL,
        Outcome.PASSED,
        _(
            "Das Siegel des Portals ist unversehrt: nichts, was es versiegelt, wurde "
            "verändert. Zertifikat „%(subject)s“, ausgestellt von „%(issuer)s“."
        )
        % {"subject": subject, "issuer": issuer},
    )


def _certification_check(seals, status) -> Check:
    seal = seals[0]
    level = status.modification_level
    later_signatures = len(seals) > 1
    if seal.docmdp_level is None:
        # Sealed before certification came (issue 14): an approval signature.
        if status.docmdp_ok is False or later_signatures:
            return Check(
                CERTIFICATION,
                Outcome.FAILED,
                _("Nach dem Siegel wurde die Datei verändert."),
            )
        return Check(
            CERTIFICATION,
            Outcome.NOTE,
            _(
                "Das Siegel ist eine Freigabe, keine Zertifizierung (versiegelt, bevor das "
                "Portal zertifizierte): ob später etwas angefügt wurde, zeigt der Vergleich "
                "mit dem abgelegten Original."
            ),
        )
    if seal.docmdp_level is not MDPPerm.NO_CHANGES:
        return Check(
            CERTIFICATION,
            Outcome.FAILED,
            _(
                "Die Zertifizierung erlaubt spätere Änderungen; das Portal zertifiziert "
                "ohne Änderungen."
            ),
        )
    if status.docmdp_ok is not True or later_signatures:
        return Check(
            CERTIFICATION,
            Outcome.FAILED,
            _(
                "Nach dem Siegel wurde eine Revision angefügt, die die Zertifizierung "
                "verbietet (etwa geänderter Inhalt, eine Anmerkung oder eine weitere "
                "Unterschrift). PDF-Programme melden das Siegel deshalb als verletzt."
            ),
        )
    if level is ModificationLevel.LTA_UPDATES:
        explanation = _(
            "Zertifiziert, keine Änderungen erlaubt: nach dem Siegel folgen nur "
            "Validierungsdaten und Archivzeitstempel, die die Zertifizierung zulässt."
        )
    else:
        explanation = _(
            "Zertifiziert, keine Änderungen erlaubt: nach dem Siegel wurde nichts angefügt."
        )
    return Check(CERTIFICATION, Outcome.PASSED, explanation)


def _timestamp_check(status) -> Check:
    timestamp = status.timestamp_validity
    if timestamp is None:
        return Check(
            TIMESTAMP,
            Outcome.NOTE,
            _(
                "Das Siegel trägt keinen Zeitstempel: seine Zeit ist die Angabe des Portals, "
                "nicht die eines Zeitstempeldienstes."
            ),
        )
    values = {
        "authority": _common_name(timestamp.signing_cert.subject),
        "time": local_time(timestamp.timestamp),
    }
    if not (timestamp.intact and timestamp.valid):
        return Check(TIMESTAMP, Outcome.FAILED, _("Der Zeitstempel des Siegels ist ungültig."))
    if not timestamp.trusted:
        return Check(
            TIMESTAMP,
            Outcome.NOTE,
            _(
                "Zeitstempel vom %(time)s von „%(authority)s“: unversehrt, aber dieser "
                "Zeitstempeldienst ist dem Portal nicht als vertrauenswürdig bekannt."
            )
            % values,
        )
    return Check(
        TIMESTAMP,
        Outcome.PASSED,
        _("Der Zeitstempeldienst „%(authority)s“ bestätigt: versiegelt am %(time)s.") % values,
    )


def _archive_timestamps_check(document_timestamps, reader, roots) -> Check:
    statuses = []
    for document_timestamp in document_timestamps:
        try:
            statuses.append(
                run_in_own_event_loop(
                    lambda stamp=document_timestamp: async_validate_pdf_timestamp(
                        stamp, _context(reader, roots)
                    )
                )
            )
        except Exception as error:
            logger.info("Archive timestamp of an uploaded PDF not checkable: %r", error)
            statuses.append(None)
    if any(status is None or not (status.intact and status.valid) for status in statuses):
        return Check(
            ARCHIVE_TIMESTAMPS,
            Outcome.FAILED,
            _("Ein Archivzeitstempel ist ungültig: die Datei wurde nach ihm verändert."),
        )
    newest = statuses[-1]
    values = {
        "count": len(statuses),
        "time": local_time(newest.timestamp),
        "authority": _common_name(newest.signing_cert.subject),
    }
    if not all(status.trusted for status in statuses):
        return Check(
            ARCHIVE_TIMESTAMPS,
            Outcome.NOTE,
            ngettext(
                "Ein Archivzeitstempel vom %(time)s von „%(authority)s“: unversehrt, aber "
                "nicht von einem Zeitstempeldienst, den das Portal als vertrauenswürdig kennt.",
                "%(count)s Archivzeitstempel, der jüngste vom %(time)s von „%(authority)s“: "
                "unversehrt, aber nicht alle von einem Zeitstempeldienst, den das Portal als "
                "vertrauenswürdig kennt.",
                len(statuses),
            )
            % values,
        )
    return Check(
        ARCHIVE_TIMESTAMPS,
        Outcome.PASSED,
        ngettext(
            "Ein Archivzeitstempel vom %(time)s von „%(authority)s“ hält Siegel und "
            "Validierungsdaten über die Jahre prüfbar.",
            "%(count)s Archivzeitstempel halten Siegel und Validierungsdaten über die "
            "Jahre prüfbar; der jüngste vom %(time)s von „%(authority)s“.",
            len(statuses),
        )
        % values,
    )


# --- The embedded content -----------------------------------------------------------------


def _embedded_content_sha256(reader) -> str | None:
    """The SHA-256 of the signed content embedded as associated file, if there is one."""
    try:
        for spec in reader.root.get("/AF", generic.ArrayObject()):
            spec = spec.get_object()
            if spec.get("/AFRelationship") != "/Data" or spec.get("/UF") != CONTENT_FILE_NAME:
                continue
            return hashlib.sha256(spec["/EF"]["/F"].get_object().data).hexdigest()
    except Exception as error:
        logger.info("Embedded content of an uploaded PDF not readable: %r", error)
    return None


def local_time(value: datetime.datetime) -> str:
    """A time in Zurich, to the minute, in the interface's words: "02.12.2026, 14:05 Uhr"."""
    local = value.astimezone(SWISS_TIME_ZONE)
    return _("%(date)s, %(time)s Uhr") % {
        "date": f"{local:%d.%m.%Y}",
        "time": f"{local:%H:%M}",
    }


def _common_name(name) -> str:
    """A certificate name as people read it: its common name, else the whole name."""
    return name.native.get("common_name") or name.human_friendly
