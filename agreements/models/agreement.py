"""The data of an SLA between Marketing and Sales.

An ``Agreement`` holds every value the template asks for, section by section, as typed
fields: that keeps the wizard's forms plain ModelForms, the admin useful and the frozen
snapshot of a submitted agreement a simple dict. Fields may be empty while the agreement
is a draft; what is still missing is answered by ``agreements.document``.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..enums import (
    SIGNED_STATUSES,
    AgreementStatus,
    ExchangeInterval,
    FunnelStage,
    Party,
    ReportBack,
    ReportingAudience,
    ReportingChannel,
    SqlPeriod,
)
from .frozen import WORKFLOW_FIELDS, AgreementFrozen, refuse_frozen_write
from .organisation import Membership, Organisation, user_roles
from .records import Signature


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
        return self.filter(status__in=SIGNED_STATUSES)

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

    # The head of the audit trail (agreements.audit): number and hash of its last event,
    # written with every event. A trail cut short at its end no longer reaches it.
    audit_head_sequence = models.PositiveIntegerField(
        _("Letztes Audit-Ereignis"), default=0, editable=False
    )
    audit_head_hash = models.CharField(
        _("Hash des letzten Audit-Ereignisses"), max_length=64, blank=True, editable=False
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
        from ..snapshot import agreement_content_sha256

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
