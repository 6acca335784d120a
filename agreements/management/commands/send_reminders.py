"""``manage.py send_reminders``: the daily reminder mails (``agreements.reminders``), for cron.

Enqueues them as a task (``agreements.tasks.jobs.reminders_task``): a task worker
sends them, and retries what the mail server refused. Safe to run as often as cron
likes: each reminder goes out once a day.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks import TaskResultStatus

from agreements.tasks.jobs import reminders_task


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
        today = today or timezone.localdate()
        result = reminders_task.enqueue(today=today.isoformat())
        if not result.is_finished:
            self.stdout.write(f"Reminders for {today} enqueued as task {result.id}.")
        elif result.status == TaskResultStatus.SUCCESSFUL:
            # A backend that runs tasks at once (tests, a single process) has sent them.
            report = result.return_value
            self.stdout.write(
                f"Reminders sent: {report['sent']}; already sent today: {report['skipped']}."
            )
        else:
            raise CommandError(f"Reminders for {today} not sent: see the log.")
