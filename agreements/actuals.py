"""The reported figures of a signed SLA, period by period (issue 8).

A signed agreement's term is cut into periods of its ``sql_period`` (``agreement_periods``).
For each period Marketing reports the marketing figures and Sales the sales figures
(``permissions.actuals_fields_for``); ``actuals_save`` writes them, whether typed into the
form or imported from a CSV file (``agreements.actuals_csv``), all or nothing. How far they
reach the goals: ``agreements.attainment``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .audit import RequestMeta, audit_record
from .dates import add_months
from .document import swiss_date
from .enums import SIGNED_STATUSES, AuditAction, FunnelStage, Role, SqlPeriod
from .models import Agreement, PeriodActuals
from .permissions import actuals_fields_for

MONTHS_PER_PERIOD = {
    SqlPeriod.MONTH: 1,
    SqlPeriod.QUARTER: 3,
    SqlPeriod.HALF_YEAR: 6,
    SqlPeriod.YEAR: 12,
}

ACTUALS_FIELDS = (
    "sqls_handed_over",
    "leads_in_time",
    "revenue",
    "attributed_revenue",
    *(stage.field_name for stage in FunnelStage),
)
AMOUNT_FIELDS = frozenset({"revenue", "attributed_revenue"})


@dataclass(frozen=True)
class Period:
    """One period of an agreement's term: ``start`` to ``end``, both inclusive."""

    start: datetime.date
    end: datetime.date
    label: str  # "Q1 2026", "H2 2026", "03/2026", "2026" or "15.01.–14.04.2026"

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    @property
    def dates(self) -> str:
        return f"{swiss_date(self.start)}–{swiss_date(self.end)}"


def _period_label(start: datetime.date, end: datetime.date, months: int) -> str:
    aligned = (
        start.day == 1
        and (start.month - 1) % months == 0
        and end == add_months(start, months) - datetime.timedelta(days=1)
    )
    if not aligned:
        return f"{start:%d.%m.}–{swiss_date(end)}"
    if months == 1:
        return f"{start:%m/%Y}"
    if months == 3:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if months == 6:
        return f"H{(start.month - 1) // 6 + 1} {start.year}"
    return str(start.year)


def agreement_periods(agreement: Agreement) -> list[Period]:
    """The periods of the agreement's ``sql_period`` from its start to its end date.

    They step on from the start date (a term from 1.1. gives calendar quarters); the last
    one ends with the term. Empty when the term or the period is not set.
    """
    months = MONTHS_PER_PERIOD.get(agreement.sql_period)
    if not (months and agreement.start_date and agreement.end_date):
        return []
    periods = []
    start = agreement.start_date
    step = 1
    while start <= agreement.end_date:
        # Counted from the term's start, not from the previous period: 31.01. + 1 month
        # is 28.02., and the next must again be 31.03., not 28.03.
        following = add_months(agreement.start_date, months * step)
        end = min(following - datetime.timedelta(days=1), agreement.end_date)
        periods.append(Period(start, end, _period_label(start, end, months)))
        start, step = following, step + 1
    return periods


class ActualsRefused(Exception):
    """Figures this role may not report, or an agreement that takes none (not signed).

    The forms offer neither; the views answer it with 403.
    """


@dataclass(frozen=True)
class ActualsEntry:
    """The figures reported for one period; only the names in ``values`` are written."""

    period_start: datetime.date
    values: dict[str, int | Decimal | None]
    line: int | None = None  # the CSV line it came from, for error messages


def actuals_save(
    *,
    agreement: Agreement,
    user,
    role: Role,
    entries: Sequence[ActualsEntry],
    meta: RequestMeta | None = None,
) -> list[PeriodActuals]:
    """Write the reported figures of one or more periods, all or nothing.

    Refuses (``ActualsRefused``) a figure that is not ``role``'s to report and an agreement
    that is not signed; raises ValidationError, naming the period (and CSV line), when a
    period is not one of the agreement's or a figure breaks a rule. Figures not named in an
    entry keep their stored value. What changed, each figure from its old to its new
    value, is one ``actuals_saved`` event in the agreement's audit trail: the figures
    decide the status lights management reads.
    """
    allowed = set(actuals_fields_for(role))
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status not in SIGNED_STATUSES:
            raise ActualsRefused("Ist-Werte gibt es nur für unterzeichnete Vereinbarungen.")
        periods = {period.start: period for period in agreement_periods(agreement)}
        existing = {a.period_start: a for a in PeriodActuals.objects.filter(agreement=agreement)}
        saved, changes = [], {}
        for entry in entries:
            foreign = set(entry.values) - allowed
            if foreign:
                raise ActualsRefused(f"Nicht Sache der Rolle {role}: {sorted(foreign)}")
            where = _where(entry)
            period = periods.get(entry.period_start)
            if period is None:
                raise ValidationError(
                    _("%(where)s: Keine Periode dieser Vereinbarung beginnt am %(date)s.")
                    % {"where": where, "date": swiss_date(entry.period_start)}
                )
            actuals = existing.get(period.start) or PeriodActuals(
                agreement=agreement, period_start=period.start, period_end=period.end
            )
            for name, value in entry.values.items():
                before = getattr(actuals, name) if actuals.pk else None
                if before != value:
                    period_changes = changes.setdefault(period.start.isoformat(), {})
                    period_changes[name] = [_plain(before), _plain(value)]
                setattr(actuals, name, value)
            actuals.updated_by = user
            try:
                actuals.full_clean()
            except ValidationError as error:
                raise ValidationError(
                    [f"{where}: {message}" for message in error.messages]
                ) from error
            actuals.save()
            existing[period.start] = actuals
            saved.append(actuals)
        if changes:
            audit_record(
                agreement=agreement,
                action=AuditAction.ACTUALS_SAVED,
                actor=user,
                meta=meta or RequestMeta(),
                details={
                    "fields": sorted({name for fields in changes.values() for name in fields}),
                    "changes": changes,
                },
            )
    return saved


def _plain(value) -> str | int | None:
    """A figure as the audit event keeps it: amounts as text, exactly."""
    return str(value) if isinstance(value, Decimal) else value


def _where(entry: ActualsEntry) -> str:
    if entry.line is not None:
        return str(_("Zeile %(line)s") % {"line": entry.line})
    return str(_("Periode ab %(date)s") % {"date": swiss_date(entry.period_start)})
