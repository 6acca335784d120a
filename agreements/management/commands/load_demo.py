"""``manage.py load_demo``: the demo organisation, accounts and SLA, for local use."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.demo import load_demo


class Command(BaseCommand):
    help = "Loads the demo data (Muster AG, users with password 'demo'). Safe to run twice."

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Refusing to load demo accounts with DJANGO_DEBUG off: their password is 'demo'."
            )
        agreement = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {agreement} (users marketing, sales, management, admin)"
            )
        )
