"""``manage.py send_reminders``: the daily reminder mails (``agreements.reminders``), for cron.

Safe to run as often as cron likes: each reminder goes out at most once a day.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from agreements.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Mails representatives whose signature has been awaited for more than "
        "SLA_REMINDER_SIGNATURE_DAYS days, and the authors and management of signed "
        "agreements due for renewal within SLA_REMINDER_RENEWAL_DAYS days without a "
        "successor. Sends each reminder at most once a day, however often it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="The day to remind for, as YYYY-MM-DD (default: today). For tests and catch-up.",
        )

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as error:
                raise CommandError(f"--today must be a date as YYYY-MM-DD: {error}") from error
        report = reminders_send(today=today)
        self.stdout.write(f"Reminders sent: {report.sent}; already sent today: {report.skipped}.")
