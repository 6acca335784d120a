"""What happened to an agreement: signatures, the audit trail, the reminders sent.

Rows that record an event and are not edited afterwards. They point at their agreement
by name ("Agreement"): the agreement's queryset asks for valid signatures, so this module
stands below ``agreement.py`` and does not import it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..enums import AuditAction, Party, ReminderKind
from .organisation import Membership


class SignatureQuerySet(models.QuerySet):
    def valid(self) -> "SignatureQuerySet":
        """Signatures that count: not voided by a decline or a reopen."""
        return self.filter(voided_at__isnull=True)

    def with_job_title(self) -> "SignatureQuerySet":
        """Each signature with its signer's ``job_title`` in the organisation, in one query."""
        return self.annotate(
            job_title=models.Subquery(
                Membership.objects.filter(
                    organisation_id=models.OuterRef("agreement__organisation_id"),
                    user_id=models.OuterRef("user_id"),
                ).values("job_title")[:1]
            )
        )


class Signature(models.Model):
    """A representative's simple electronic signature for their party.

    It records who signed, the name they typed, when, from where, and the SHA-256 of the
    content they saw. A decline or reopen voids it visibly (``voided_at``, ``void_reason``)
    instead of deleting it; only one valid signature per party may exist.
    """

    agreement = models.ForeignKey(
        "Agreement",
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("Vereinbarung"),
    )
    party = models.CharField(_("Partei"), max_length=20, choices=Party.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sla_signatures",
        verbose_name=_("Unterzeichnet von"),
    )
    typed_name = models.CharField(_("Eingetippter Name"), max_length=200)
    signed_at = models.DateTimeField(_("Unterzeichnet am"))
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    user_agent = models.CharField(_("Browser"), max_length=500, blank=True)
    content_sha256 = models.CharField(_("Prüfsumme (SHA-256)"), max_length=64)
    voided_at = models.DateTimeField(_("Ungültig seit"), null=True, blank=True)
    void_reason = models.TextField(_("Grund der Ungültigkeit"), blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "signed_at"]
        verbose_name = _("Unterschrift")
        verbose_name_plural = _("Unterschriften")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=Q(voided_at__isnull=True),
                name="signature_one_valid_per_party",
                violation_error_message=_("Für diese Partei wurde bereits unterzeichnet."),
            ),
            models.CheckConstraint(
                condition=Q(party__in=Party.values), name="signature_party_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()}: {self.typed_name} ({self.signed_at:%d.%m.%Y %H:%M})"

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None


class AuditEvent(models.Model):
    """One step on an agreement, in an append-only, hash-chained trail.

    ``hash`` is the SHA-256 over the event's own fields and ``previous_hash``, the hash of
    the event before it (see ``agreements.audit``): editing, deleting or reordering a row
    breaks the chain. Rows are written only by ``agreements.audit.audit_record``; nothing
    in the code updates or deletes them, and the admin shows them read-only.
    """

    agreement = models.ForeignKey(
        "Agreement",
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("Vereinbarung"),
    )
    sequence = models.PositiveIntegerField(_("Nr."))
    action = models.CharField(_("Aktion"), max_length=30, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Person"),
    )
    # Hashed instead of the foreign key: deleting a user sets ``actor`` to NULL, which must
    # not break the chain, and the trail must still say who acted.
    actor_name = models.CharField(_("Name"), max_length=300)
    # Set by audit_record, not auto_now: the value is part of the hash.
    created_at = models.DateTimeField(_("Zeitpunkt"))
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    user_agent = models.CharField(_("Browser"), max_length=500, blank=True)
    details = models.JSONField(_("Details"), default=dict, blank=True)
    previous_hash = models.CharField(_("Vorheriger Hash"), max_length=64, blank=True)
    hash = models.CharField(_("Hash"), max_length=64)

    class Meta:
        ordering = ["agreement", "sequence"]
        verbose_name = _("Audit-Ereignis")
        verbose_name_plural = _("Audit-Ereignisse")
        # The agreement page finds the submit and signature events among thousands of
        # downloads without reading them (agreements.audit.audit_verify_head).
        indexes = [
            models.Index(fields=["agreement", "action", "sequence"], name="audit_event_action")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "sequence"], name="audit_event_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="audit_event_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_action_display()} ({self.actor_name})"

    def save(self, *args, **kwargs):
        # Append-only: a second save of the same row would rewrite history.
        if not self._state.adding:
            raise ValueError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)


class Reminder(models.Model):
    """A reminder mail sent (``agreements.reminders``): one per kind, recipient and day.

    The row is inserted before the mail goes out; the unique constraint makes a second
    run on the same day, even one running at the same moment, find it and send nothing.
    """

    agreement = models.ForeignKey(
        "Agreement",
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("Vereinbarung"),
    )
    kind = models.CharField(_("Art"), max_length=20, choices=ReminderKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("Empfänger"),
    )
    sent_on = models.DateField(_("Gesendet am"))

    class Meta:
        ordering = ["-sent_on", "agreement", "kind"]
        verbose_name = _("Erinnerung")
        verbose_name_plural = _("Erinnerungen")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind", "recipient", "sent_on"],
                name="reminder_once_a_day",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sent_on:%d.%m.%Y}"
