"""Comment threads on a draft's sections, and what each person last read of an SLA.

The history of the fields has no table of its own: it is in the audit trail
(``agreements.negotiation.history``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..models import Agreement
from .sections import SECTION_BY_KEY, SECTION_CHOICES

COMMENT_MAX_LENGTH = 2000


class ThreadQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class Thread(models.Model):
    """A discussion about one section of an agreement: its comments, resolved or open."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="comment_threads",
        verbose_name=_("Vereinbarung"),
    )
    section = models.CharField(_("Abschnitt"), max_length=20, choices=SECTION_CHOICES)
    created_at = models.DateTimeField(_("Eröffnet am"))
    resolved_at = models.DateTimeField(_("Erledigt am"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Erledigt von"),
    )
    resolved_by_name = models.CharField(_("Erledigt von (Name)"), max_length=300, blank=True)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("Diskussion")
        verbose_name_plural = _("Diskussionen")
        indexes = [models.Index(fields=["agreement", "section"])]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.section_title}"

    @property
    def section_title(self) -> str:
        section = SECTION_BY_KEY.get(self.section)
        return str(section.title) if section else self.section

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class Comment(models.Model):
    """One comment of a thread: plain text, kept as typed; shown escaped, lines kept."""

    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="comments", verbose_name=_("Diskussion")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("Verfasst von"),
    )
    # The name as it was when writing: the comment still says who, if the account goes.
    author_name = models.CharField(_("Name"), max_length=300)
    body = models.TextField(_("Kommentar"), max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(_("Geschrieben am"))
    edited_at = models.DateTimeField(_("Bearbeitet am"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("Kommentar")
        verbose_name_plural = _("Kommentare")

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"


class DocumentView(models.Model):
    """The version of an SLA a person was last shown: its content, hash and trail position.

    ``snapshot`` is the content as ``agreements.snapshot.agreement_snapshot`` writes it,
    so the next visit can show what changed since (``agreements.negotiation.reading``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="+")
    content_sha256 = models.CharField(_("Prüfsumme"), max_length=64)
    snapshot = models.JSONField(_("Inhalt"))
    audit_sequence = models.PositiveIntegerField(_("Letztes Ereignis"), default=0)
    viewed_at = models.DateTimeField(_("Angesehen am"))

    class Meta:
        verbose_name = _("Letzte Ansicht")
        verbose_name_plural = _("Letzte Ansichten")
        constraints = [
            models.UniqueConstraint(fields=["user", "agreement"], name="one_last_view_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.agreement_id} ({self.content_sha256[:12]})"
