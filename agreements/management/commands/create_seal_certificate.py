"""``manage.py create_seal_certificate``: a self-signed seal for development (`make run`)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.seal import SealError, seal_certificate_create


class Command(BaseCommand):
    help = (
        "Creates a self-signed seal key and certificate at SLA_SEAL_KEY_FILE and "
        "SLA_SEAL_CERT_FILE, encrypted with SLA_SEAL_PASSPHRASE when set. Does nothing when "
        "they exist. For development: production seals with a CA's certificate."
    )

    def handle(self, *args, **options):
        if settings.SLA_SEAL_PKCS12_FILE:
            self.stdout.write(
                f"SLA_SEAL_PKCS12_FILE is set ({settings.SLA_SEAL_PKCS12_FILE}): nothing to do."
            )
            return
        key_file = Path(settings.SLA_SEAL_KEY_FILE)
        cert_file = Path(settings.SLA_SEAL_CERT_FILE)
        try:
            created = seal_certificate_create(
                key_file=key_file, cert_file=cert_file, passphrase=settings.SLA_SEAL_PASSPHRASE
            )
        except SealError as error:
            raise CommandError(str(error)) from error
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Seal certificate created: {cert_file} (key {key_file})")
            )
        else:
            self.stdout.write(f"Seal certificate already present: {cert_file}")
