"""``manage.py store_pending_pdfs``: produce every signed PDF the completion hook missed.

When rendering or sealing fails at completion, the agreement stays signed and its PDF
is produced later: by the first download, or by this command, for cron. It stores each
missing PDF through ``signed_pdf_store`` (render, seal, then write, so nothing is left
half-written) and exits with status 1 when any still fails, so monitoring can alert.
"""

from django.core.management.base import BaseCommand, CommandError

from agreements.archive import SignedPdfError, signed_pdf_store
from agreements.models import Agreement


class Command(BaseCommand):
    help = "Stores the sealed PDF of every signed agreement that has none; exit 1 if any fails."

    def handle(self, *args, **options):
        pending = list(
            Agreement.objects.signed().filter(signed_pdf="").order_by("pk").values_list("pk")
        )
        failed = 0
        for (pk,) in pending:
            try:
                signed_pdf_store(agreement_id=pk)
            except SignedPdfError as error:
                failed += 1
                self.stderr.write(f"Agreement {pk}: PDF not stored: {error}")
            else:
                self.stdout.write(f"Agreement {pk}: PDF stored.")
        if failed:
            raise CommandError(f"{failed} of {len(pending)} pending PDFs could not be stored.")
        self.stdout.write(self.style.SUCCESS(f"{len(pending)} pending PDFs stored."))
