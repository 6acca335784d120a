"""``manage.py export_pdf AGREEMENT_ID --output FILE``: an agreement's PDF to a file.

A signed agreement gives its stored, sealed PDF byte for byte, in its newest version
(with archive timestamps, if any; checked against its SHA-256 first; stored now if the
completion hook could not); any other gives a draft
preview with the "ENTWURF" watermark, unsealed, as the download page does.
"""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agreements.archive import (
    CHUNK_SIZE,
    SignedPdfError,
    signed_pdf_open,
    signed_pdf_store,
)
from agreements.enums import SIGNED_STATUSES
from agreements.evidence.archive_timestamps import signed_pdf_newest
from agreements.models import Agreement
from agreements.pdf import PdfRenderError, render_agreement_pdf


class Command(BaseCommand):
    help = (
        "Writes an agreement's PDF to FILE: the stored signed PDF, or a draft preview "
        "(watermark ENTWURF) when it is not signed yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("agreement_id", type=int)
        parser.add_argument("--output", "-o", type=Path, required=True, help="file to write")

    def handle(self, *args, agreement_id: int, output: Path, **options):
        try:
            agreement = Agreement.objects.select_related("organisation").get(pk=agreement_id)
        except Agreement.DoesNotExist:
            raise CommandError(f"No agreement {agreement_id}.") from None
        try:
            if agreement.status in SIGNED_STATUSES:
                if not agreement.signed_pdf:
                    agreement = signed_pdf_store(agreement_id=agreement.pk)
                version = signed_pdf_newest(agreement)
                with (
                    signed_pdf_open(agreement, file=version.file, sha256=version.sha256) as source,
                    output.open("wb") as target,
                ):
                    shutil.copyfileobj(source, target, CHUNK_SIZE)
                kind = f"signed PDF, SHA-256 {version.sha256}"
            else:
                output.write_bytes(render_agreement_pdf(agreement, draft=True))
                kind = "draft preview (ENTWURF, not sealed)"
        except (SignedPdfError, PdfRenderError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{agreement}: {kind} written to {output}"))
