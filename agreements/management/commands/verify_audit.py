"""``manage.py verify_audit``: check every audit trail and every stored signed PDF.

Prints one line per broken chain and per signed PDF (every version, those with archive
timestamps too) that is missing or no longer has the SHA-256 recorded when it was stored
(reading each file whole: downloads skip files a worker has hashed already and that have
provably not changed since). Exits with status 1
when anything is wrong, 0 only when all is intact, so cron or monitoring can alert on it.
"""

from django.core.management.base import BaseCommand, CommandError

from agreements.archive import SignedPdfMismatch, signed_pdf_check
from agreements.audit import audit_verify
from agreements.evidence.models import ArchiveTimestamp
from agreements.models import Agreement


class Command(BaseCommand):
    help = (
        "Verifies the audit trail and the stored signed PDF of every agreement; "
        "exit status 1 if any is broken."
    )

    def handle(self, *args, **options):
        agreements = Agreement.objects.select_related("organisation").order_by("pk")
        total = broken = pdfs = bad_pdfs = 0
        for agreement in agreements.iterator():
            total += 1
            report = audit_verify(agreement)
            if not report.intact:
                broken += 1
                self.stdout.write(
                    f"Agreement {agreement.pk} ({agreement}): broken at event "
                    f"{report.broken_sequence}: {report.message}"
                )
            if agreement.signed_pdf:
                versions = [(agreement.signed_pdf, agreement.signed_pdf_sha256)]
                versions += [
                    (stamp.pdf, stamp.pdf_sha256)
                    for stamp in ArchiveTimestamp.objects.filter(agreement_id=agreement.pk)
                ]
                for file, sha256 in versions:
                    pdfs += 1
                    try:
                        signed_pdf_check(agreement, file=file, sha256=sha256)
                    except SignedPdfMismatch as error:
                        bad_pdfs += 1
                        self.stdout.write(
                            f"Agreement {agreement.pk} ({agreement}): signed PDF: {error}"
                        )
        problems = []
        if broken:
            problems.append(f"{broken} of {total} audit trails are broken")
        if bad_pdfs:
            problems.append(f"{bad_pdfs} of {pdfs} signed PDFs are missing or changed")
        if problems:
            raise CommandError("; ".join(problems) + ".")
        self.stdout.write(
            self.style.SUCCESS(
                f"All {total} audit trails are intact. Stored signed PDFs checked: {pdfs}, "
                "all unchanged."
            )
        )
