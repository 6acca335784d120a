"""Who takes part: organisations, and each person's role in them.

Every page asks first which organisations the user belongs to and in which role
(``user_roles``); that answer is read once per request, in one written-out query.
"""

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..enums import Role
from ..people import display_name
from ..validators import single_line


class Organisation(models.Model):
    """The company whose Marketing and Sales agree (the template's ``[FIRMA]``)."""

    # One line: the name goes into mail subjects (agreements.validators).
    name = models.CharField(_("Name"), max_length=200, unique=True, validators=[single_line])
    created_at = models.DateTimeField(_("Angelegt am"), auto_now_add=True)
    # Moves with every save, when a member's name changes and when one of its agreements
    # is deleted (signals.py): the dashboard's cache key reads it to know that a kept
    # list would show old names or a row that is gone.
    updated_at = models.DateTimeField(_("Geändert am"), auto_now=True)
    # How its members log in and sign (agreements.identity, docs/security.md).
    require_sso = models.BooleanField(
        _("Anmeldung nur über Single Sign-on"),
        default=False,
        help_text=_(
            "Mitglieder melden sich über den Identitätsanbieter der Firma an; Passwort und "
            "Passkey des Portals genügen dann nicht zur Anmeldung."
        ),
    )
    require_signing_second_factor = models.BooleanField(
        _("Zweiter Faktor zum Unterzeichnen"),
        default=False,
        help_text=_(
            "Wer für diese Organisation unterzeichnet, bestätigt mit einem Passkey oder "
            "einem Code aus der Authenticator-App; das Passwort allein genügt nicht."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisationen")

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def with_role(self, role: Role) -> "MembershipQuerySet":
        return self.filter(role=role)

    def admins(self) -> "MembershipQuerySet":
        return self.filter(is_admin=True)


class Membership(models.Model):
    """A person's place in an organisation: marketing, sales or management, and whether
    they also administer its team (agreements.team)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("Person"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("Organisation"),
    )
    role = models.CharField(_("Rolle"), max_length=20, choices=Role.choices)
    job_title = models.CharField(
        _("Funktion"),
        max_length=200,
        blank=True,
        help_text=_("Wie die Person im Unterschriftenblock bezeichnet wird."),
    )
    # A second role beside the one above, not a fourth choice of it: who administers the
    # team also writes, signs or reads as marketing, sales or management.
    is_admin = models.BooleanField(
        _("Organisationsadministration"),
        default=False,
        help_text=_("Lädt Personen ein, vergibt Rollen und entfernt Mitglieder (Seite «Team»)."),
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "role", "user__last_name", "user__first_name"]
        verbose_name = _("Mitgliedschaft")
        verbose_name_plural = _("Mitgliedschaften")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_one_role_per_organisation"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{display_name(self.user)} ({self.get_role_display()}, {self.organisation})"


# The tables are the models' default names (no db_table is set): see _memberships.
_MEMBERSHIPS_SQL = """
    SELECT m.organisation_id, m.role, o.updated_at, m.is_admin, (
        SELECT a.updated_at FROM agreements_agreement a
        WHERE a.organisation_id = m.organisation_id
        ORDER BY a.updated_at DESC LIMIT 1
    )
    FROM agreements_membership m
    JOIN agreements_organisation o ON o.id = m.organisation_id
    WHERE m.user_id = %s
"""


def user_roles(user) -> dict[int, str]:
    """The user's role in each organisation they belong to: {organisation id: role}."""
    return {organisation_id: role for organisation_id, (role, *_) in _memberships(user).items()}


def user_organisations_changed(user) -> dict[int, tuple]:
    """For each of the user's organisations: when it (or a member's name) last changed,
    and when the last of its agreements did. What the dashboard keys its cache on."""
    return {
        organisation_id: (organisation_changed, agreements_changed)
        for organisation_id, (_, organisation_changed, agreements_changed, _admin) in (
            _memberships(user).items()
        )
    }


def user_administered_organisations(user) -> list[int]:
    """The ids of the organisations whose team ``user`` administers (no query of its own)."""
    return sorted(o for o, (*_, is_admin) in _memberships(user).items() if is_admin)


def _memberships(user) -> dict[int, tuple]:
    """{organisation id: (role, organisation's updated_at, its agreements' last updated_at,
    whether the user administers it)}.

    One query per request, kept on the user object, which lives as long as the request;
    the last change of the agreements is one probe of the index ``agreement_recent_first``.
    Every page asks this first, so the statement is SQL written out once: built through
    the ORM (a join, an annotation, a subquery) it cost four times as long as it runs.
    """
    if not user.is_authenticated:
        return {}
    memberships = getattr(user, "_sla_memberships", None)
    if memberships is None:
        with connections[Membership.objects.db].cursor() as cursor:
            cursor.execute(_MEMBERSHIPS_SQL, [user.pk])
            memberships = user._sla_memberships = {
                organisation_id: (role, organisation_changed, agreements_changed, bool(is_admin))
                for organisation_id, role, organisation_changed, is_admin, agreements_changed in (
                    cursor
                )
            }
    return memberships
