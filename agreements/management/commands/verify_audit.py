"""``manage.py verify_audit``: check every agreement's hash-chained audit trail.

Prints one line per broken chain and exits with status 1 when there is one, 0 only
when every chain is intact, so cron or monitoring can alert on it.
"""

from django.core.management.base import BaseCommand, CommandError

from agreements.audit import audit_verify
from agreements.models import Agreement


class Command(BaseCommand):
    help = "Verifies the audit trail of every agreement; exit status 1 if any is broken."

    def handle(self, *args, **options):
        agreements = Agreement.objects.select_related("organisation").order_by("pk")
        total = broken = 0
        for agreement in agreements.iterator():
            total += 1
            report = audit_verify(agreement)
            if not report.intact:
                broken += 1
                self.stdout.write(
                    f"Agreement {agreement.pk} ({agreement}): broken at event "
                    f"{report.broken_sequence}: {report.message}"
                )
        if broken:
            raise CommandError(f"{broken} of {total} audit trails are broken.")
        self.stdout.write(self.style.SUCCESS(f"All {total} audit trails are intact."))
