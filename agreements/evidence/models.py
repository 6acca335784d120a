"""``ArchiveTimestamp``: a later version of a signed agreement's sealed PDF.

The evidence package is a Django app of its own (label ``evidence``), so its models and
migrations stay out of ``agreements.models``; it refers to ``Agreement`` by name.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def archive_pdf_path(instance, filename: str) -> str:
    """An unguessable name, like the sealed PDF's own (agreements.models.signed_pdf_path)."""
    return f"signed/{uuid.uuid4().hex}.pdf"


class ArchiveTimestamp(models.Model):
    """The sealed PDF once more, with a document timestamp over it (PAdES B-LTA).

    ``agreements.evidence.archive_timestamps`` writes one row per renewal and never
    changes it: the file is the version before (the stored PDF, or the previous row's
    file) with the validation data and a new timestamp appended, so its first bytes are
    still the sealed PDF. The newest is what a download serves; every version's hash
    stays known to the verify page, so a copy downloaded before a renewal still checks.
    """

    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.PROTECT,
        related_name="archive_timestamps",
        verbose_name=_("Vereinbarung"),
    )
    pdf = models.FileField(
        _("PDF mit Archivzeitstempel"), upload_to=archive_pdf_path, max_length=200, editable=False
    )
    pdf_sha256 = models.CharField(
        _("Prüfsumme des PDF (SHA-256)"), max_length=64, unique=True, editable=False
    )
    # The time the timestamp server vouches for, from the timestamp itself.
    timestamped_at = models.DateTimeField(_("Zeitstempel vom"), editable=False)
    timestamp_authority = models.CharField(
        _("Zeitstempeldienst"), max_length=300, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("Abgelegt am"), editable=False)

    class Meta:
        ordering = ["agreement", "created_at", "pk"]
        get_latest_by = ["created_at", "pk"]
        verbose_name = _("Archivzeitstempel")
        verbose_name_plural = _("Archivzeitstempel")
        indexes = [models.Index(fields=["agreement", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.timestamped_at:%Y-%m-%d %H:%M} ({self.pdf_sha256[:12]})"

    def save(self, *args, **kwargs):
        # Like the audit trail: a version, once written, is history.
        if not self._state.adding:
            raise ValueError("Archive timestamps are append-only and cannot be changed.")
        super().save(*args, **kwargs)
