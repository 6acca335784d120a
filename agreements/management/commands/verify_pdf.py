"""``manage.py verify_pdf FILE``: is this file a signed SLA exactly as the portal stored it?

The command-line twin of the verify page: exit status 0 only for an authentic file (its
SHA-256 is a stored signed PDF's), 1 for anything else, so scripts can rely on it.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agreements.archive import CHUNK_SIZE, signed_pdf_verify
from agreements.document import swiss_date


class Command(BaseCommand):
    help = "Checks whether FILE is a signed SLA PDF of this portal; exit status 0 only if so."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the PDF to check")

    def handle(self, *args, file: Path, **options):
        try:
            with file.open("rb") as handle:
                result = signed_pdf_verify(iter(lambda: handle.read(CHUNK_SIZE), b""))
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        self.stdout.write(f"SHA-256: {result.sha256}")
        if not result.authentic:
            raise CommandError(
                "NOT authentic: no signed SLA of this portal has exactly this content."
            )
        agreement = result.agreement
        self.stdout.write(
            self.style.SUCCESS(
                f"Authentic: {agreement} (agreement {agreement.pk}, "
                f"signed PDF stored {swiss_date(agreement.signed_pdf_stored_at.date())})"
            )
        )
        for row in result.signatures:
            function = f", {row.job_title}" if row.job_title else ""
            self.stdout.write(
                f"  {row.party.label}: {row.typed_name}{function}, signed {row.signed_at_zurich}"
            )
