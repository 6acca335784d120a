"""The figures reported against a signed agreement's goals, period by period."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .agreement import Agreement


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
