"""``manage.py load_demo``: the demo organisation, accounts and SLAs, for local use.

The signed demo SLA needs the seal: without a PKCS#12 file configured, the command
first creates the self-signed development certificate (as ``create_seal_certificate``
does) and afterwards makes sure the sealed PDF is stored, failing loudly if it cannot be.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.archive import SignedPdfError, signed_pdf_store
from agreements.demo import load_demo, signed_demo_agreement
from agreements.seal import SealError, seal_certificate_create


class Command(BaseCommand):
    help = "Loads the demo data (Muster AG, users with password 'demo'). Safe to run twice."

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Refusing to load demo accounts with DJANGO_DEBUG off: their password is 'demo'."
            )
        if not settings.SLA_SEAL_PKCS12_FILE:
            try:
                seal_certificate_create(
                    key_file=Path(settings.SLA_SEAL_KEY_FILE),
                    cert_file=Path(settings.SLA_SEAL_CERT_FILE),
                    passphrase=settings.SLA_SEAL_PASSPHRASE,
                )
            except SealError as error:
                raise CommandError(str(error)) from error
        agreement = load_demo()
        # load_demo's commit enqueued the PDF's task; storing it here makes the demo whole
        # before any worker runs, and says loudly why if the seal fails. The task then
        # finds it stored and does nothing.
        try:
            signed = signed_pdf_store(agreement_id=signed_demo_agreement().pk)
        except SignedPdfError as error:
            raise CommandError(f"The signed demo SLA's PDF could not be stored: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {agreement} (draft) and {signed} (signed, PDF stored), "
                "users marketing, sales, management, admin"
            )
        )
