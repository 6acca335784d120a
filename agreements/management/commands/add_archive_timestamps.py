"""``manage.py add_archive_timestamps``: renew the evidence of signed PDFs (PAdES B-LTA).

Adds a document timestamp from ``SLA_SEAL_TIMESTAMP_URL``, over the seal and its
validation data, to every signed agreement's PDF that is due: it has no timestamp yet,
or its newest timestamp's certificate expires within ``--renew-days`` (365 by default).
``--agreement`` names agreements to renew now, due or not. Run it from cron (monthly,
say): each renewal is stored as a new version, the PDF sealed on completion stays.

Exit status 1 when any renewal failed (the timestamp server did not answer, a stored
file no longer matches its hash): nothing of a failed renewal is stored, each failure
is printed and logged, and the next run tries again.
"""

import datetime
import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.archive import SignedPdfError
from agreements.evidence.archive_timestamps import archive_timestamp_add, archive_timestamps_due
from agreements.models import Agreement
from agreements.seal import SealError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Adds an archive timestamp (PAdES B-LTA) to each signed PDF that needs one; "
        "exit status 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--agreement",
            type=int,
            action="append",
            dest="agreement_ids",
            metavar="ID",
            help="renew this agreement's PDF now (repeatable); default: all that are due",
        )
        parser.add_argument(
            "--renew-days",
            type=int,
            default=365,
            help="renew when the newest timestamp's certificate expires within so many days",
        )

    def handle(self, *args, agreement_ids=None, renew_days: int, **options):
        if not settings.SLA_SEAL_TIMESTAMP_URL:
            raise CommandError("SLA_SEAL_TIMESTAMP_URL is not set: there is no timestamp server.")
        if agreement_ids is None:
            agreement_ids = archive_timestamps_due(renew_within=datetime.timedelta(days=renew_days))
        failed = 0
        for agreement_id in agreement_ids:
            try:
                stamp = archive_timestamp_add(agreement_id=agreement_id)
            except (SignedPdfError, SealError, Agreement.DoesNotExist) as error:
                failed += 1
                logger.error("Archive timestamp for agreement %s failed: %s", agreement_id, error)
                self.stderr.write(f"Agreement {agreement_id}: {error}")
                continue
            self.stdout.write(
                f"Agreement {agreement_id}: archive timestamp of "
                f"{stamp.timestamped_at:%Y-%m-%d %H:%M} UTC by {stamp.timestamp_authority}, "
                f"SHA-256 {stamp.pdf_sha256}"
            )
        if failed:
            raise CommandError(f"{failed} of {len(agreement_ids)} archive timestamps failed.")
        self.stdout.write(self.style.SUCCESS(f"{len(agreement_ids)} archive timestamp(s) added."))
