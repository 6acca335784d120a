"""The rows of a team's life: invitations, and the organisation's log of every change.

Why a log of its own rather than more ``AuditEvent`` rows: an audit event belongs to one
agreement, and its hash chain proves that agreement's history to the people who signed
it (``agreements.audit``). Who joined or left an organisation is no step of any SLA; put
into that chain it would need an agreement it does not have. ``OrganisationEvent`` is
the organisation's own record, append-only like the audit (no view changes or deletes a
row), listed on the Team page. Names are copied into the row when it is written, so the
log still says who did what after a person left.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import Role
from ..models import Organisation

INVITATION_VALID_FOR = datetime.timedelta(days=7)


def new_nonce() -> str:
    """The random part of an invitation's link; a new one makes every older link void."""
    return secrets.token_hex(16)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Offen")
    ACCEPTED = "accepted", _("Angenommen")
    REVOKED = "revoked", _("Widerrufen")
    EXPIRED = "expired", _("Abgelaufen")


class InvitationQuerySet(models.QuerySet):
    def open(self) -> InvitationQuerySet:
        """Neither accepted nor revoked: pending, or expired and waiting for a resend."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An e-mail address asked to join an organisation with a role.

    The link in the mail is not stored: it is an HMAC over the row's id, ``nonce`` and
    address (``agreements.team.tokens``), so a copy of the database opens nothing, a
    resend (a new nonce) voids the older link and a changed address voids it too.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("Organisation"),
    )
    email = models.EmailField(_("E-Mail-Adresse"))
    role = models.CharField(_("Rolle"), max_length=20, choices=Role.choices)
    job_title = models.CharField(_("Funktion"), max_length=200, blank=True)
    is_admin = models.BooleanField(_("Organisationsadministration"), default=False)
    nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Eingeladen von"),
    )
    created_at = models.DateTimeField(_("Eingeladen am"), default=timezone.now)
    sent_at = models.DateTimeField(_("Zuletzt gesendet"), default=timezone.now)
    expires_at = models.DateTimeField(_("Gültig bis"))
    accepted_at = models.DateTimeField(_("Angenommen am"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Angenommen von"),
    )
    revoked_at = models.DateTimeField(_("Widerrufen am"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Einladung")
        verbose_name_plural = _("Einladungen")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def get_status_display(self) -> str:
        return self.status.label


class TeamAction(models.TextChoices):
    """What an ``OrganisationEvent`` records."""

    ORGANISATION_CREATED = "organisation_created", _("Organisation angelegt")
    INVITED = "invited", _("Eingeladen")
    INVITATION_RESENT = "invitation_resent", _("Einladung erneut gesendet")
    INVITATION_REVOKED = "invitation_revoked", _("Einladung widerrufen")
    INVITATION_ACCEPTED = "invitation_accepted", _("Beigetreten")
    MEMBER_ADDED = "member_added", _("Mitglied hinzugefügt")
    MEMBER_CHANGED = "member_changed", _("Mitglied geändert")
    MEMBER_REMOVED = "member_removed", _("Aus der Organisation entfernt")


# The actions that send an invitation mail: what the throttle counts.
MAIL_ACTIONS = (TeamAction.INVITED, TeamAction.INVITATION_RESENT)


class OrganisationEvent(models.Model):
    """Who did what to whom in an organisation's team, and when (see the module)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="team_events",
        verbose_name=_("Organisation"),
    )
    action = models.CharField(_("Aktion"), max_length=30, choices=TeamAction.choices)
    created_at = models.DateTimeField(_("Zeitpunkt"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Wer"),
    )
    actor_name = models.CharField(_("Wer"), max_length=300, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Wen"),
    )
    subject_name = models.CharField(_("Wen"), max_length=300, blank=True)
    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("Einladung"),
    )
    details = models.JSONField(_("Details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Ereignis der Organisation")
        verbose_name_plural = _("Ereignisse der Organisation")

    def __str__(self) -> str:
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.get_action_display()}: {self.subject_name}"

    @property
    def changes(self) -> list[str]:
        """What changed, one line each ("Rolle: Marketing → Sales"), for the Team page."""
        if self.action == TeamAction.MEMBER_CHANGED:
            return [
                f"{_FIELD_LABELS[name]}: {_shown(name, before)} → {_shown(name, after)}"
                for name, (before, after) in self.details.items()
                if name in _FIELD_LABELS
            ]
        with_role = (TeamAction.INVITED, TeamAction.MEMBER_ADDED, TeamAction.MEMBER_REMOVED)
        if self.action in with_role and self.details:
            return [f"{_FIELD_LABELS['role']}: {_shown('role', self.details.get('role'))}"]
        return []


_FIELD_LABELS = {
    "role": _("Rolle"),
    "job_title": _("Funktion"),
    "is_admin": _("Verwaltet das Team"),
}


def _shown(name: str, value) -> str:
    if name == "role":
        return str(Role(value).label) if value in Role.values else "–"
    if name == "is_admin":
        return str(_("ja") if value else _("nein"))
    return value or "–"
