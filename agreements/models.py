"""The data of an SLA between Marketing and Sales.

An ``Agreement`` holds every value the template asks for, section by section, as typed
fields: that keeps the wizard's forms plain ModelForms, the admin useful and the frozen
snapshot of a submitted agreement a simple dict. Fields may be empty while the agreement
is a draft; what is still missing is answered by ``agreements.document``.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .enums import (
    AgreementStatus,
    AuditAction,
    ExchangeInterval,
    FunnelStage,
    Party,
    ReminderKind,
    ReportBack,
    ReportingAudience,
    ReportingChannel,
    Role,
    SqlPeriod,
)


class Organisation(models.Model):
    """The company whose Marketing and Sales agree (the template's ``[FIRMA]``)."""

    name = models.CharField(_("Name"), max_length=200, unique=True)
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


class Membership(models.Model):
    """A person's place in an organisation: marketing, sales or management."""

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
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} ({self.get_role_display()}, {self.organisation})"


# The tables are the models' default names (no db_table is set): see _memberships.
_MEMBERSHIPS_SQL = """
    SELECT m.organisation_id, m.role, o.updated_at, (
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
        for organisation_id, (_, organisation_changed, agreements_changed) in _memberships(
            user
        ).items()
    }


def _memberships(user) -> dict[int, tuple]:
    """{organisation id: (role, organisation's updated_at, its agreements' last updated_at)}.

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
                organisation_id: (role, organisation_changed, agreements_changed)
                for organisation_id, role, organisation_changed, agreements_changed in cursor
            }
    return memberships


def framework_document_path(instance, filename: str) -> str:
    """An unguessable name: the document is private and never has a public URL."""
    return f"frameworks/{uuid.uuid4().hex}.pdf"


def signed_pdf_path(instance, filename: str) -> str:
    """An unguessable name for the sealed PDF (agreements.archive): private, streamed only."""
    return f"signed/{uuid.uuid4().hex}.pdf"


# What the dashboard's search box looks at.
SEARCH_LOOKUPS = (
    "organisation__name",
    "geographic_unit",
    "group_subgroup",
    "system_name",
    "marketing_representative__first_name",
    "marketing_representative__last_name",
    "sales_representative__first_name",
    "sales_representative__last_name",
)


class AgreementFrozen(Exception):
    """A write that would change a submitted, signed or superseded agreement's content.

    Raised by ``Agreement.save()`` and ``AgreementQuerySet.update()`` before anything is
    written; on PostgreSQL the trigger of migration 0004 refuses the same in the database,
    for SQL that never passes through the ORM.
    """


# What the workflow (agreements.workflow, agreements.archive) writes after a draft is
# submitted: the status, the frozen snapshot and the sealed PDF. Every other column is
# content, frozen from the submission on; migration 0004's trigger names the same columns.
WORKFLOW_FIELDS = frozenset(
    {
        "status",
        "revision",
        "content_snapshot",
        "content_sha256",
        "submitted_at",
        "completed_at",
        "updated_at",
        "signed_pdf",
        "signed_pdf_sha256",
        "signed_pdf_stored_at",
    }
)

# The only status changes there are (see the diagram in agreements.workflow). Without this
# rule, "back to draft, change, signed again" would pass a guard that only freezes content.
STATUS_TRANSITIONS = frozenset(
    {
        (AgreementStatus.DRAFT, AgreementStatus.AWAITING_SIGNATURES),
        (AgreementStatus.AWAITING_SIGNATURES, AgreementStatus.DRAFT),
        (AgreementStatus.AWAITING_SIGNATURES, AgreementStatus.SIGNED),
        (AgreementStatus.SIGNED, AgreementStatus.SUPERSEDED),
    }
)


def refuse_frozen_write(*, pk, stored_status: str, fields, new_status: str | None) -> None:
    """Raise ``AgreementFrozen`` unless writing ``fields`` to a row in ``stored_status`` is allowed.

    A draft takes any write. After submission only ``WORKFLOW_FIELDS`` may be written, and
    the status only along ``STATUS_TRANSITIONS``.
    """
    if (
        new_status is not None
        and new_status != stored_status
        and (stored_status, new_status) not in STATUS_TRANSITIONS
    ):
        raise AgreementFrozen(
            f"Agreement {pk} cannot go from {stored_status} to {new_status}; "
            "only agreements.workflow changes the status."
        )
    if stored_status == AgreementStatus.DRAFT:
        return
    content = sorted(set(fields) - WORKFLOW_FIELDS)
    if content:
        raise AgreementFrozen(
            f"Agreement {pk} is {stored_status}: its content is frozen "
            f"(refused: {', '.join(content)})."
        )


class AgreementQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        """``QuerySet.update``, refused when it would change a non-draft's content or status.

        Checked row by row before the UPDATE (agreements are few, and bulk updates of them
        rare); the database trigger (PostgreSQL) closes the gap between check and statement.
        """
        if set(kwargs) - WORKFLOW_FIELDS or "status" in kwargs:
            rows = self if "status" in kwargs else self.exclude(status=AgreementStatus.DRAFT)
            for pk, stored_status in rows.order_by().values_list("pk", "status"):
                refuse_frozen_write(
                    pk=pk,
                    stored_status=stored_status,
                    fields=kwargs,
                    new_status=kwargs.get("status"),
                )
        return super().update(**kwargs)

    def drafts(self) -> "AgreementQuerySet":
        return self.filter(status=AgreementStatus.DRAFT)

    def signed(self) -> "AgreementQuerySet":
        """Fully signed agreements, including those a renewal has since superseded."""
        return self.filter(status__in=(AgreementStatus.SIGNED, AgreementStatus.SUPERSEDED))

    def for_organisation(self, organisation: Organisation) -> "AgreementQuerySet":
        return self.filter(organisation=organisation)

    def visible_to(self, user) -> "AgreementQuerySet":
        """Agreements of the organisations the user belongs to."""
        if not user.is_authenticated:
            return self.none()
        # The organisations' ids as a list (one small query), not a subquery or a join with
        # DISTINCT: for a member of one organisation, PostgreSQL then walks an index below
        # in the page's order and stops after one page, however many agreements the
        # organisation has; with a subquery it reads and sorts them all (issue 7, bench/).
        organisation_ids = sorted(user_roles(user))
        return self.filter(organisation_id__in=organisation_ids)

    def awaiting_signature_of(self, user) -> "AgreementQuerySet":
        """Agreements under signature that wait for ``user``'s own signature.

        Those where the user is the named representative of a party, still holds that
        party's role, and the party has not signed yet (as ``permissions.can_sign``).
        No query for a user who holds no party's role (management).
        """
        parties = Q()
        for party in Party:
            organisation_ids = [o for o, role in user_roles(user).items() if role == party.value]
            if organisation_ids:
                signed = Signature.objects.valid().filter(
                    agreement_id=models.OuterRef("pk"), party=party.value
                )
                parties |= Q(
                    ~models.Exists(signed),
                    organisation_id__in=organisation_ids,
                    **{f"{party.value}_representative_id": user.pk},
                )
        if not parties:
            return self.none()
        return self.filter(parties, status=AgreementStatus.AWAITING_SIGNATURES)

    def search(self, text: str) -> "AgreementQuerySet":
        """Agreements matching every word of ``text`` in a name, place or representative.

        Word by word, so "Anna Keller" finds Anna Keller although first and last name
        are separate columns.
        """
        queryset = self
        for word in text.split():
            matches = Q()
            for lookup in SEARCH_LOOKUPS:
                matches |= Q(**{f"{lookup}__icontains": word})
            queryset = queryset.filter(matches)
        return queryset


def rate_stage_field(verbose_name):
    return models.CharField(verbose_name, max_length=20, choices=FunnelStage.choices, blank=True)


def definition_field(verbose_name):
    return models.TextField(verbose_name, blank=True)


def funnel_field(verbose_name):
    return models.PositiveIntegerField(verbose_name, null=True, blank=True)


class Agreement(models.Model):
    """One SLA between the Marketing and Sales of an organisation, for one period."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("Organisation"),
    )
    status = models.CharField(
        _("Status"),
        max_length=30,
        choices=AgreementStatus.choices,
        default=AgreementStatus.DRAFT,
        editable=False,
    )
    # Raised by every saved change: a save based on an older revision is refused.
    revision = models.PositiveIntegerField(_("Revision"), default=1, editable=False)
    renews = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
        verbose_name=_("Erneuert"),
    )

    # 2. Geltungsbereich
    start_date = models.DateField(_("Gültig ab"), null=True, blank=True)
    end_date = models.DateField(_("Gültig bis"), null=True, blank=True)
    geographic_unit = models.CharField(
        _("Geschäftseinheit (geografisch)"), max_length=200, blank=True
    )
    group_subgroup = models.CharField(_("Gruppe / Untergruppe"), max_length=200, blank=True)

    # 3. Parteien
    marketing_function = models.CharField(
        _("Funktion Marketing"), max_length=200, blank=True, default="Inbound Marketing"
    )
    marketing_representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Vertretung Marketing"),
    )
    sales_function = models.CharField(
        _("Funktion Sales"), max_length=200, blank=True, default="Inbound Sales"
    )
    sales_representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Vertretung Sales"),
    )

    # 4. Rahmen
    system_name = models.CharField(
        _("Inbound Marketing & Sales System"), max_length=200, blank=True
    )
    system_created_on = models.DateField(_("Erstellt am"), null=True, blank=True)
    framework_document = models.FileField(
        _("Dokumentation (PDF)"), upload_to=framework_document_path, blank=True, max_length=200
    )
    framework_document_name = models.CharField(
        _("Dateiname"), max_length=255, blank=True, editable=False
    )

    # 5. Definitionen (the 13 standard terms, in the template's order)
    definition_visits = definition_field(_("Visits"))
    definition_contacts = definition_field(_("Contacts"))
    definition_leads = definition_field(_("Leads"))
    definition_prospects = definition_field(_("Prospects"))
    definition_mql = definition_field(_("Marketing-qualifizierte Leads (MQL)"))
    definition_sql = definition_field(_("Sales-qualifizierte Leads (SQL)"))
    rate_x_stage = rate_stage_field(_("Conversion Rate 1: von (X)"))
    rate_y_stage = rate_stage_field(_("Conversion Rate 1: zu (Y)"))
    definition_rate_xy = definition_field(_("Conversion Rate X zu Y"))
    rate_z_stage = rate_stage_field(_("Conversion Rate 2: zu (Z)"))
    definition_rate_yz = definition_field(_("Conversion Rate Y zu Z"))
    definition_close_rate = definition_field(_("Close-Rate"))
    definition_attribution = definition_field(_("Attribution"))
    definition_deal_stages = definition_field(_("DEAL-Stages"))
    definition_closed_won = definition_field(_("„Closed-Won“"))
    definition_revenue = definition_field(_("Umsatz"))

    # 6. Zielsetzungen
    sql_target = models.PositiveIntegerField(_("Anzahl SQL"), null=True, blank=True)
    sql_period = models.CharField(
        _("Zeitraum"), max_length=20, choices=SqlPeriod.choices, blank=True
    )
    response_time_hours = models.PositiveSmallIntegerField(
        _("Bearbeitung innerhalb (Stunden)"), null=True, blank=True
    )
    report_back = models.CharField(
        _("Sales meldet nach Abschluss"), max_length=20, choices=ReportBack.choices, blank=True
    )

    # 7. Metriken
    metric_sql = models.BooleanField(_("SQL-Metriken"), default=False)
    metric_revenue = models.BooleanField(_("Umsatz"), default=False)
    metric_other = models.CharField(_("Weitere Metriken"), max_length=300, blank=True)

    # 8. Verantwortungsbereiche
    marketing_responsible = models.CharField(
        _("Verantwortung Marketing"), max_length=200, blank=True
    )
    marketing_deputy = models.CharField(_("Stellvertretung Marketing"), max_length=200, blank=True)
    sales_responsible = models.CharField(_("Verantwortung Sales"), max_length=200, blank=True)
    sales_deputy = models.CharField(_("Stellvertretung Sales"), max_length=200, blank=True)

    # 9. Reporting
    reporting_channel = models.CharField(
        _("Reporting über"), max_length=30, choices=ReportingChannel.choices, blank=True
    )
    reporting_channel_other = models.CharField(_("Anderes Tool"), max_length=200, blank=True)
    reporting_audience = models.CharField(
        _("Zu Handen"), max_length=30, choices=ReportingAudience.choices, blank=True
    )
    reporting_audience_other = models.CharField(_("Andere Stelle"), max_length=200, blank=True)

    # 10. Performance-Optimierung
    exchange_interval = models.CharField(
        _("Austausch"), max_length=20, choices=ExchangeInterval.choices, blank=True
    )

    # 11. Erneuerung
    renewal_date = models.DateField(_("Erneuerung per"), null=True, blank=True)

    # Anhang: the funnel. Conversion rates are derived from these, never stored.
    funnel_visits = funnel_field(_("ATTRACT – Visits"))
    funnel_target_accounts = funnel_field(_("IDENTIFY – Target Accounts"))
    funnel_mql = funnel_field(_("CONVERT – Marketing Qualified Leads"))
    funnel_prospects = funnel_field(_("CONNECT – Prospects"))
    funnel_sql = funnel_field(_("Sales Qualified Leads"))
    funnel_customers = funnel_field(_("CLOSE – Customers"))

    created_at = models.DateTimeField(_("Erstellt am"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("Erstellt von"),
    )
    updated_at = models.DateTimeField(_("Geändert am"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("Geändert von"),
    )

    # Sign-off (agreements.workflow): the content frozen on submit and its SHA-256, which
    # every signature must match. Empty while the agreement is a draft.
    content_snapshot = models.JSONField(
        _("Eingereichter Inhalt"), null=True, blank=True, editable=False
    )
    content_sha256 = models.CharField(
        _("Prüfsumme (SHA-256)"), max_length=64, blank=True, editable=False
    )
    submitted_at = models.DateTimeField(_("Eingereicht am"), null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(
        _("Vollständig unterzeichnet am"), null=True, blank=True, editable=False
    )

    # The sealed PDF (agreements.archive), rendered once on completion and then served
    # exactly as stored. The hash finds the agreement for an uploaded copy (verify page).
    signed_pdf = models.FileField(
        _("Unterzeichnetes PDF"),
        upload_to=signed_pdf_path,
        blank=True,
        max_length=200,
        editable=False,
    )
    signed_pdf_sha256 = models.CharField(
        _("Prüfsumme des PDF (SHA-256)"),
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
    )
    signed_pdf_stored_at = models.DateTimeField(
        _("PDF abgelegt am"), null=True, blank=True, editable=False
    )

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-updated_at"]
        verbose_name = _("Leistungsvereinbarung")
        verbose_name_plural = _("Leistungsvereinbarungen")
        indexes = [
            models.Index(fields=["organisation", "status", "-updated_at"]),
            # The dashboard's and the signed list's orders, within an organisation.
            models.Index(
                fields=["organisation", "-updated_at", "-id"], name="agreement_recent_first"
            ),
            models.Index(
                fields=["organisation", "-start_date", "-completed_at", "-id"],
                name="agreement_newest_period_first",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AgreementStatus.values), name="agreement_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gt=F("start_date")),
                name="agreement_end_after_start",
                violation_error_message=_("Das Enddatum muss nach dem Startdatum liegen."),
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(renewal_date__isnull=True)
                | Q(renewal_date__gt=F("start_date")),
                name="agreement_renewal_after_start",
                violation_error_message=_("Das Erneuerungsdatum muss nach dem Startdatum liegen."),
            ),
            models.CheckConstraint(
                condition=Q(response_time_hours__isnull=True) | Q(response_time_hours__gt=0),
                name="agreement_response_time_positive",
                violation_error_message=_("Die Bearbeitungszeit muss mindestens 1 Stunde sein."),
            ),
        ]

    def __str__(self) -> str:
        period = ""
        if self.start_date and self.end_date:
            period = f" {self.start_date:%d.%m.%Y}–{self.end_date:%d.%m.%Y}"
        return f"SLA {self.organisation}{period}"

    def save(self, *args, **kwargs):
        # Refusing is the only thing done here: a write that would change a frozen
        # agreement never reaches the database. The workflow passes ``update_fields``
        # limited to WORKFLOW_FIELDS; a full save() is a draft's.
        if not self._state.adding and self.pk is not None:
            update_fields = kwargs.get("update_fields")
            fields = (
                [field.name for field in self._meta.concrete_fields]
                if update_fields is None
                else update_fields
            )
            stored_status = (
                Agreement.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            )
            if stored_status is not None:
                refuse_frozen_write(
                    pk=self.pk,
                    stored_status=stored_status,
                    fields=fields,
                    new_status=self.status if "status" in fields else None,
                )
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.rate_x_stage and self.rate_y_stage and self.rate_x_stage == self.rate_y_stage:
            errors["rate_y_stage"] = _("X und Y müssen verschiedene Stufen sein.")
        if self.rate_y_stage and self.rate_z_stage and self.rate_y_stage == self.rate_z_stage:
            errors["rate_z_stage"] = _("Y und Z müssen verschiedene Stufen sein.")
        if self.reporting_channel == ReportingChannel.OTHER and not self.reporting_channel_other:
            errors["reporting_channel_other"] = _("Bitte das Tool nennen.")
        if self.reporting_audience == ReportingAudience.OTHER and not self.reporting_audience_other:
            errors["reporting_audience_other"] = _("Bitte die Stelle nennen.")
        if self.organisation_id:
            for party in Party:
                user_id = getattr(self, f"{party.value}_representative_id")
                if (
                    user_id
                    and not Membership.objects.filter(
                        organisation_id=self.organisation_id, user_id=user_id, role=party.value
                    ).exists()
                ):
                    errors[f"{party.value}_representative"] = _(
                        "Die Vertretung muss zur Organisation gehören und die Rolle %(role)s haben."
                    ) % {"role": party.label}
        if errors:
            raise ValidationError(errors)

    def representative(self, party: Party):
        return getattr(self, f"{party.value}_representative")

    def funnel_figure(self, stage: FunnelStage) -> int | None:
        return getattr(self, stage.field_name)

    def content_hash(self) -> str:
        """The SHA-256 of the live content, comparable with ``content_sha256``."""
        # Imported here: the snapshot builds on agreements.document, which must stay free
        # to import the models.
        from .snapshot import agreement_content_sha256

        return agreement_content_sha256(self)


class FurtherDefinitionQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        """Refused for definitions of an agreement that is no longer a draft."""
        _refuse_unless_drafts(self.order_by().values("agreement_id"))
        return super().update(**kwargs)

    def delete(self):
        _refuse_unless_drafts(self.order_by().values("agreement_id"))
        return super().delete()


class FurtherDefinition(models.Model):
    """An extra term of section 5 ("Als [WEITERE DEFINITIONEN] gelten ……")."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="further_definitions",
        verbose_name=_("Vereinbarung"),
    )
    position = models.PositiveSmallIntegerField(_("Position"), default=0)
    term = models.CharField(_("Begriff"), max_length=200)
    text = models.TextField(_("Definition"))

    objects = FurtherDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("Weitere Definition")
        verbose_name_plural = _("Weitere Definitionen")

    def __str__(self) -> str:
        return self.term

    # The further definitions are part of the signed text (agreements.snapshot): frozen
    # with their agreement, like its own fields.
    def save(self, *args, **kwargs):
        _refuse_unless_drafts([self.agreement_id])
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_drafts([self.agreement_id])
        return super().delete(*args, **kwargs)


def _refuse_unless_drafts(agreement_ids) -> None:
    """Raise ``AgreementFrozen`` when one of the agreements is no longer a draft."""
    frozen = (
        Agreement.objects.filter(pk__in=agreement_ids)
        .exclude(status=AgreementStatus.DRAFT)
        .values_list("pk", "status")
        .first()
    )
    if frozen:
        raise AgreementFrozen(
            f"Agreement {frozen[0]} is {frozen[1]}: its further definitions are frozen."
        )


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
        Agreement,
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
        Agreement,
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
        Agreement,
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


def actual_figure_field(verbose_name):
    return models.PositiveIntegerField(verbose_name, null=True, blank=True)


def actual_amount_field(verbose_name):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, null=True, blank=True)


class PeriodActuals(models.Model):
    """The reported figures of one period of a signed agreement (issue 8, agreements.actuals).

    A period is one ``sql_period`` (month, quarter, half-year, year) within the agreement's
    term, named by its first day. Every figure may be empty: not reported yet. Marketing
    reports the marketing figures, Sales the sales figures (``agreements.actuals``).
    """

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="actuals",
        verbose_name=_("Vereinbarung"),
    )
    period_start = models.DateField(_("Periode ab"))
    period_end = models.DateField(_("Periode bis"))
    sqls_handed_over = actual_figure_field(_("SQL an Sales übergeben"))
    leads_in_time = actual_figure_field(_("Leads fristgerecht bearbeitet"))
    revenue = actual_amount_field(_("Umsatz (CHF)"))
    attributed_revenue = actual_amount_field(_("Attribuierter Umsatz (CHF)"))
    funnel_visits = actual_figure_field(_("Visits"))
    funnel_target_accounts = actual_figure_field(_("Target Accounts"))
    funnel_mql = actual_figure_field(_("MQL"))
    funnel_prospects = actual_figure_field(_("Prospects"))
    funnel_sql = actual_figure_field(_("SQL"))
    funnel_customers = actual_figure_field(_("Customers"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("Geändert von"),
    )
    updated_at = models.DateTimeField(_("Geändert am"), auto_now=True)

    class Meta:
        ordering = ["agreement", "period_start"]
        verbose_name = _("Ist-Werte einer Periode")
        verbose_name_plural = _("Ist-Werte")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "period_start"],
                name="period_actuals_one_per_period",
                violation_error_message=_("Für diese Periode gibt es bereits Ist-Werte."),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="period_actuals_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(revenue__isnull=True) | Q(revenue__gte=0),
                name="period_actuals_revenue_not_negative",
                violation_error_message=_("Der Umsatz darf nicht negativ sein."),
            ),
            models.CheckConstraint(
                condition=Q(attributed_revenue__isnull=True) | Q(attributed_revenue__gte=0),
                name="period_actuals_attributed_revenue_not_negative",
                violation_error_message=_("Der attribuierte Umsatz darf nicht negativ sein."),
            ),
            models.CheckConstraint(
                condition=Q(leads_in_time__isnull=True)
                | Q(sqls_handed_over__isnull=True)
                | Q(leads_in_time__lte=F("sqls_handed_over")),
                name="period_actuals_in_time_within_sqls",
                violation_error_message=_(
                    "Es können nicht mehr Leads fristgerecht bearbeitet als SQL übergeben "
                    "worden sein."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: {self.period_start:%d.%m.%Y}–{self.period_end:%d.%m.%Y}"


# The ledger of sent mails lives in its own module (agreements.outbox); imported here so
# that Django registers the model with this app.
from .outbox import MailDelivery  # noqa: E402, F401
