"""``manage.py verify_pdf FILE``: is this file a signed SLA exactly as the portal stored it?

The command-line twin of the verify page: it prints what it checked (the file against
the portal's records, the seal, its certification, the timestamps, the embedded signed
content) and why a file fails, in German or, with ``--language en``, in English. Exit
status 0 only for an authentic file, 1 for anything else, so scripts can rely on it.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from agreements.document import swiss_date
from agreements.evidence.verification import signed_pdf_verify


class Command(BaseCommand):
    help = "Checks whether FILE is a signed SLA PDF of this portal; exit status 0 only if so."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the PDF to check")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="language of the report (default: %(default)s)",
        )

    def handle(self, *args, file: Path, language: str, **options):
        with translation.override(language):
            self._report(file)

    def _report(self, file: Path) -> None:
        try:
            with file.open("rb") as handle:
                result = signed_pdf_verify(handle)
        except OSError as error:
            raise CommandError(
                _("Datei nicht lesbar: %(file)s: %(error)s") % {"file": file, "error": error}
            ) from error
        self.stdout.write(f"SHA-256: {result.sha256}")
        self.stdout.write(_("Geprüft:"))
        for check in result.checks:
            self.stdout.write(f"  [{check.outcome_label}] {check.title}: {check.explanation}")
        if not result.authentic:
            raise CommandError(
                _("NICHT authentisch: %(reasons)s")
                % {"reasons": " ".join(check.explanation for check in result.failures)}
            )
        agreement = result.agreement
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Authentisch: %(agreement)s (Vereinbarung %(number)s, unterzeichnetes PDF "
                    "abgelegt am %(date)s)"
                )
                % {
                    "agreement": agreement,
                    "number": agreement.pk,
                    "date": swiss_date(agreement.signed_pdf_stored_at.date()),
                }
            )
        )
        for row in result.signatures:
            function = f", {row.job_title}" if row.job_title else ""
            self.stdout.write(
                "  "
                + _("%(party)s: %(name)s%(function)s, unterzeichnet %(time)s")
                % {
                    "party": row.party.label,
                    "name": row.typed_name,
                    "function": function,
                    "time": row.signed_at_zurich,
                }
            )
