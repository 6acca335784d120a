"""``manage.py tasks_recover``: once, what every task worker does each minute; for cron.

Gives the tasks of workers that died back to the queue and enqueues work whose enqueue
was lost, such as the PDF of a signed agreement that has none and no task
(``agreements.tasks.recovery``). Exits with status 1 while a signed agreement has no
stored PDF because its task failed for good, so that monitoring alerts; the admin's
task list shows why, and "Erneut versuchen" there (or a download) runs it again.
"""

from django.core.management.base import BaseCommand, CommandError

from agreements.models import Agreement
from agreements.tasks.engine import TaskState, task_state
from agreements.tasks.jobs import signed_pdf_task
from agreements.tasks.recovery import tasks_recover


class Command(BaseCommand):
    help = (
        "Gives dead workers' tasks back to the queue, enqueues work whose enqueue was lost; "
        "exit 1 while a signed PDF is missing because its task failed for good."
    )

    def handle(self, *args, **options):
        report = tasks_recover()
        self.stdout.write(
            f"Tasks back in the queue: {report.requeued}; failed for good: {report.failed}; "
            f"enqueued: {report.enqueued}."
        )
        unstored = Agreement.objects.signed().filter(signed_pdf="").order_by("pk")
        failed = [
            pk
            for pk in unstored.values_list("pk", flat=True)
            if task_state(signed_pdf_task, agreement_id=pk) is TaskState.FAILED
        ]
        for pk in failed:
            self.stderr.write(f"Agreement {pk}: the task storing its signed PDF failed for good.")
        if failed:
            raise CommandError(f"{len(failed)} signed PDFs are missing; see the admin's tasks.")
