"""How far a signed SLA's reported figures reach its goals (issue 8).

``goal_report`` computes what the management dashboard and the "Zielerreichung" PDF show:

- SQL goal: SQLs handed over in a period against ``sql_target`` (the target per period,
  section 6), and cumulatively: the SQLs of all periods up to this one against
  ``sql_target`` times the number of those periods. A period not reported yet counts as
  0 SQLs in the cumulative figure once a later period is reported. Periods cut short by the
  term's start or end keep the full target: the SLA states a target per period, not per day.
- Response time: leads processed within the agreed hours as a share of the SQLs handed over.
- Funnel: the reported figures summed over the periods, beside the planned funnel of the
  appendix (which states the figures for the whole term), with the conversion rates. The
  status compares with the plan's share for the periods reported so far (three of four
  quarters reported: three quarters of the plan), so that a year is not red until December.

Status light per goal: green from 100 %, yellow from 80 %, red below (``LIGHT_GREEN_FROM``,
``LIGHT_YELLOW_FROM``); grey while nothing is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from .actuals import Period, agreement_periods
from .document import conversion_rate
from .enums import FunnelStage
from .models import Agreement, PeriodActuals
from .numbers import format_figure, format_percent, format_rate

LIGHT_GREEN_FROM = Decimal(100)
LIGHT_YELLOW_FROM = Decimal(80)


def rate_text(value) -> str:
    """A conversion rate (``numbers.format_rate``), "–" while it cannot be computed."""
    return format_rate(value) if value is not None else "–"


@dataclass(frozen=True)
class Light:
    """A status light: "green", "yellow", "red" or "grey" (nothing to judge yet)."""

    colour: str

    @property
    def label(self) -> str:
        return str(LIGHT_LABELS[self.colour])

    @property
    def symbol(self) -> str:
        # Shape as well as colour: readable in grey print and without colour vision.
        return {"green": "●", "yellow": "▲", "red": "■", "grey": "○"}[self.colour]


LIGHT_LABELS = {
    "green": _("erreicht"),
    "yellow": _("knapp verfehlt"),
    "red": _("verfehlt"),
    "grey": _("keine Daten"),
}


def status_light(percent: Decimal | None) -> Light:
    """Green from 100 %, yellow from 80 %, red below; grey when there is no figure."""
    if percent is None:
        return Light("grey")
    if percent >= LIGHT_GREEN_FROM:
        return Light("green")
    if percent >= LIGHT_YELLOW_FROM:
        return Light("yellow")
    return Light("red")


def percent_of(actual, target) -> Decimal | None:
    """``actual`` as a percentage of ``target``; None when either is missing or target is 0."""
    if actual is None or not target:
        return None
    return Decimal(actual) * 100 / Decimal(target)


@dataclass
class PeriodRow:
    """One period on the dashboard: its figures and how far they reach the goals."""

    period: Period
    actuals: PeriodActuals | None
    sql_attainment: Decimal | None
    cumulative_sql: int | None
    cumulative_target: int | None
    cumulative_attainment: Decimal | None
    response_compliance: Decimal | None

    @property
    def reported(self) -> bool:
        return self.actuals is not None

    def figure(self, name: str):
        return getattr(self.actuals, name, None) if self.actuals else None

    @property
    def sql_light(self) -> Light:
        return status_light(self.sql_attainment)

    @property
    def cumulative_light(self) -> Light:
        return status_light(self.cumulative_attainment)

    @property
    def response_light(self) -> Light:
        return status_light(self.response_compliance)

    @property
    def sqls_text(self) -> str:
        return format_figure(self.figure("sqls_handed_over"))

    @property
    def leads_in_time_text(self) -> str:
        return format_figure(self.figure("leads_in_time"))

    @property
    def revenue_text(self) -> str:
        return format_figure(self.figure("revenue"))

    @property
    def attributed_revenue_text(self) -> str:
        return format_figure(self.figure("attributed_revenue"))

    @property
    def sql_attainment_text(self) -> str:
        return format_percent(self.sql_attainment)

    @property
    def cumulative_text(self) -> str:
        return format_percent(self.cumulative_attainment)

    @property
    def response_text(self) -> str:
        return format_percent(self.response_compliance)


@dataclass(frozen=True)
class FunnelComparison:
    """One funnel stage: planned for the term, reported so far, and the rates to it."""

    stage: FunnelStage
    planned: int | None  # for the whole term
    planned_to_date: Decimal | None  # the plan's share for the periods reported so far
    actual: int | None
    planned_rate: Decimal | None  # conversion from the stage above; None for the first
    actual_rate: Decimal | None

    @property
    def attainment(self) -> Decimal | None:
        return percent_of(self.actual, self.planned_to_date)

    @property
    def light(self) -> Light:
        return status_light(self.attainment)

    @property
    def label(self) -> str:
        return self.stage.label

    @property
    def planned_to_date_text(self) -> str:
        if self.planned_to_date is None:
            return "–"
        return format_figure(int(self.planned_to_date.to_integral_value(ROUND_HALF_UP)))

    @property
    def planned_text(self) -> str:
        return format_figure(self.planned)

    @property
    def actual_text(self) -> str:
        return format_figure(self.actual)

    @property
    def attainment_text(self) -> str:
        return format_percent(self.attainment)

    @property
    def planned_rate_text(self) -> str:
        return rate_text(self.planned_rate)

    @property
    def actual_rate_text(self) -> str:
        return rate_text(self.actual_rate)


@dataclass
class GoalReport:
    """What the dashboard and the "Zielerreichung" PDF show for one agreement."""

    agreement: Agreement
    rows: list[PeriodRow]
    funnel: list[FunnelComparison]
    total_sqls: int | None = None
    total_leads_in_time: int | None = None
    total_revenue: Decimal | None = None
    total_attributed_revenue: Decimal | None = None
    sql_attainment: Decimal | None = None  # cumulative, up to the last reported period
    response_compliance: Decimal | None = None  # over all reported periods
    reported_periods: int = 0

    @property
    def sql_light(self) -> Light:
        return status_light(self.sql_attainment)

    @property
    def response_light(self) -> Light:
        return status_light(self.response_compliance)

    @property
    def sql_attainment_text(self) -> str:
        return format_percent(self.sql_attainment)

    @property
    def response_text(self) -> str:
        return format_percent(self.response_compliance)

    @property
    def total_sqls_text(self) -> str:
        return format_figure(self.total_sqls)

    @property
    def total_revenue_text(self) -> str:
        return format_figure(self.total_revenue)

    @property
    def total_attributed_revenue_text(self) -> str:
        return format_figure(self.total_attributed_revenue)

    @property
    def funnel_light(self) -> Light:
        """The funnel's bottom line: customers won against the plan."""
        return self.funnel[-1].light if self.funnel else Light("grey")


def _sum(values: Iterable) -> int | Decimal | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def goal_report(agreement: Agreement, actuals: Iterable[PeriodActuals]) -> GoalReport:
    """The attainment of ``agreement``'s goals from its reported ``actuals`` (no queries)."""
    by_start = {a.period_start: a for a in actuals}
    target = agreement.sql_target
    rows = []
    running_sqls = 0
    last_reported = -1
    periods = agreement_periods(agreement)
    for index, period in enumerate(periods):
        if by_start.get(period.start) and by_start[period.start].sqls_handed_over is not None:
            last_reported = index
    for index, period in enumerate(periods):
        entry = by_start.get(period.start)
        sqls = entry.sqls_handed_over if entry else None
        running_sqls += sqls or 0
        # Cumulative up to the last reported period; later, empty periods have no figure yet.
        if index <= last_reported:
            cumulative_sql = running_sqls
            cumulative_target = target * (index + 1) if target else None
            cumulative_attainment = percent_of(cumulative_sql, cumulative_target)
        else:
            cumulative_sql = cumulative_target = cumulative_attainment = None
        compliance = (
            percent_of(entry.leads_in_time, entry.sqls_handed_over)
            if entry and entry.leads_in_time is not None
            else None
        )
        rows.append(
            PeriodRow(
                period=period,
                actuals=entry,
                sql_attainment=percent_of(sqls, target),
                cumulative_sql=cumulative_sql,
                cumulative_target=cumulative_target,
                cumulative_attainment=cumulative_attainment,
                response_compliance=compliance,
            )
        )

    reported = [row.actuals for row in rows if row.actuals is not None]
    share = Decimal(len(reported)) / len(periods) if periods and reported else None
    funnel = []
    previous_planned = previous_actual = None
    for index, stage in enumerate(FunnelStage):
        planned = agreement.funnel_figure(stage)
        actual = _sum(getattr(a, stage.field_name) for a in reported)
        funnel.append(
            FunnelComparison(
                stage=stage,
                planned=planned,
                planned_to_date=planned * share if planned is not None and share else None,
                actual=actual,
                planned_rate=conversion_rate(previous_planned, planned) if index else None,
                actual_rate=conversion_rate(previous_actual, actual) if index else None,
            )
        )
        previous_planned, previous_actual = planned, actual

    report = GoalReport(agreement=agreement, rows=rows, funnel=funnel)
    report.reported_periods = len(reported)
    report.total_sqls = _sum(a.sqls_handed_over for a in reported)
    # Compliance over the periods in which Sales reported: their SQLs only.
    timed = [a for a in reported if a.leads_in_time is not None and a.sqls_handed_over]
    report.total_leads_in_time = _sum(a.leads_in_time for a in timed)
    report.response_compliance = percent_of(
        report.total_leads_in_time, _sum(a.sqls_handed_over for a in timed)
    )
    report.total_revenue = _sum(a.revenue for a in reported)
    report.total_attributed_revenue = _sum(a.attributed_revenue for a in reported)
    if last_reported >= 0:
        report.sql_attainment = rows[last_reported].cumulative_attainment
    return report


def goal_reports(agreements: Sequence[Agreement]) -> list[GoalReport]:
    """The reports of many agreements with one query for all their actuals."""
    by_agreement: dict[int, list[PeriodActuals]] = {a.pk: [] for a in agreements}
    for actuals in PeriodActuals.objects.filter(agreement__in=[a.pk for a in agreements]):
        by_agreement[actuals.agreement_id].append(actuals)
    return [goal_report(a, by_agreement[a.pk]) for a in agreements]
