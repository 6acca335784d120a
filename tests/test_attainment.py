"""Attainment of the goals (agreements.attainment.goal_report), against hand-computed cases."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.actuals import ActualsEntry, actuals_save, agreement_periods
from agreements.attainment import goal_report, status_light
from agreements.enums import Role, SqlPeriod
from agreements.goals_chart import sql_attainment_svg
from agreements.models import PeriodActuals
from tests.factories import make_organisation, make_signed_goals_agreement

pytestmark = pytest.mark.django_db

Q1, Q2, Q3, Q4 = (datetime.date(2026, month, 1) for month in (1, 4, 7, 10))


def report(agreement, figures: dict[datetime.date, dict]):
    """Store ``figures`` (both roles' fields) and compute the report from the database."""
    for start, values in figures.items():
        period = next(p for p in agreement_periods(agreement) if p.start == start)
        PeriodActuals.objects.create(
            agreement=agreement, period_start=start, period_end=period.end, **values
        )
    return goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))


def test_sql_goal_per_period_and_cumulative():
    # Target 55 per quarter. Q1: 58/55 = 105.45 %; Q2: 49/55 = 89.09 %; Q3: 41/55 = 74.55 %.
    # Cumulative after Q3: 148 / 165 = 89.70 %.
    agreement, _ = make_signed_goals_agreement()
    result = report(
        agreement,
        {
            Q1: {"sqls_handed_over": 58, "leads_in_time": 52},
            Q2: {"sqls_handed_over": 49, "leads_in_time": 44},
            Q3: {"sqls_handed_over": 41, "leads_in_time": 30},
        },
    )
    q1, q2, q3, q4 = result.rows
    assert [row.sql_attainment_text for row in result.rows] == [
        "105,5\u00a0%",
        "89,1\u00a0%",
        "74,5\u00a0%",
        "–",
    ]
    assert [q1.sql_light.colour, q2.sql_light.colour, q3.sql_light.colour] == [
        "green",
        "yellow",
        "red",
    ]
    assert q4.sql_light.colour == "grey"
    assert (q2.cumulative_sql, q2.cumulative_target) == (107, 110)
    assert q2.cumulative_text == "97,3\u00a0%"
    assert (q3.cumulative_sql, q3.cumulative_target) == (148, 165)
    assert result.sql_attainment_text == "89,7\u00a0%"
    assert q4.cumulative_attainment is None  # not reported yet
    # Response time: 52/58 = 89.66 %, over all: 126/148 = 85.14 %.
    assert q1.response_text == "89,7\u00a0%"
    assert result.response_text == "85,1\u00a0%"
    assert result.response_light.colour == "yellow"


def test_an_unreported_period_counts_as_zero_once_a_later_one_is_reported():
    agreement, _ = make_signed_goals_agreement()
    result = report(agreement, {Q1: {"sqls_handed_over": 55}, Q3: {"sqls_handed_over": 55}})
    # After Q3: (55 + 0 + 55) / 165 = 66.67 %: a gap must not flatter the figure.
    assert result.rows[1].sql_attainment is None
    assert result.rows[1].cumulative_text == "50,0\u00a0%"
    assert result.sql_attainment_text == "66,7\u00a0%"
    assert result.sql_light.colour == "red"


def test_funnel_actual_beside_the_plan_with_conversion_rates():
    # Plan (for the year): 28'500 / 400 / 480 / 250 / 220 / 170. Two of four quarters
    # reported: the actual is compared with half the plan.
    agreement, _ = make_signed_goals_agreement()
    result = report(
        agreement,
        {
            Q1: {"funnel_visits": 7_000, "funnel_mql": 120, "funnel_customers": 40},
            Q2: {"funnel_visits": 8_000, "funnel_mql": 100, "funnel_customers": 45},
        },
    )
    visits, accounts, mql, _prospects, _sql, customers = result.funnel
    assert (visits.planned_text, visits.planned_to_date_text) == ("28’500", "14’250")
    assert visits.actual_text == "15’000"
    assert visits.attainment_text == "105,3\u00a0%"  # 15'000 / 14'250
    assert visits.light.colour == "green"
    assert accounts.actual is None and accounts.attainment_text == "–"
    assert mql.attainment_text == "91,7\u00a0%"  # 220 / 240
    assert mql.light.colour == "yellow"
    assert mql.planned_rate_text == "1,2\u00a0:\u00a01"  # 480 / 400, as in the SLA's appendix
    assert mql.actual_rate_text == "–"  # no Target Accounts reported
    assert customers.attainment_text == "100,0\u00a0%"  # 85 / 85
    assert result.funnel_light.colour == "green"


def test_the_funnel_is_red_when_far_below_the_plans_share():
    agreement, _ = make_signed_goals_agreement()
    result = report(agreement, {Q1: {"funnel_customers": 30}})  # 30 / 42.5 = 70.6 %
    assert result.funnel[-1].attainment_text == "70,6\u00a0%"
    assert result.funnel_light.colour == "red"


@pytest.mark.parametrize(
    ("percent", "colour"),
    [
        (Decimal("150"), "green"),
        (Decimal("100"), "green"),
        (Decimal("99.99"), "yellow"),
        (Decimal("80"), "yellow"),
        (Decimal("79.99"), "red"),
        (Decimal("0"), "red"),
        (None, "grey"),
    ],
)
def test_status_light_thresholds(percent, colour):
    assert status_light(percent).colour == colour


def test_periods_follow_the_sql_period_within_the_term():
    agreement, _ = make_signed_goals_agreement(
        start_date=datetime.date(2026, 1, 31),
        end_date=datetime.date(2026, 5, 15),
        sql_period=SqlPeriod.MONTH,
    )
    periods = agreement_periods(agreement)
    assert [(p.start, p.end) for p in periods] == [
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 27)),
        (datetime.date(2026, 2, 28), datetime.date(2026, 3, 30)),
        (datetime.date(2026, 3, 31), datetime.date(2026, 4, 29)),
        (datetime.date(2026, 4, 30), datetime.date(2026, 5, 15)),  # cut short by the term
    ]


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        (SqlPeriod.QUARTER, ["Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026"]),
        (SqlPeriod.HALF_YEAR, ["H1 2026", "H2 2026"]),
        (SqlPeriod.YEAR, ["2026"]),
    ],
)
def test_calendar_periods_have_short_labels(period, labels):
    agreement, _ = make_signed_goals_agreement(sql_period=period)
    assert [p.label for p in agreement_periods(agreement)] == labels


def test_the_chart_draws_one_coloured_bar_per_reported_period():
    agreement, _ = make_signed_goals_agreement()
    result = report(agreement, {Q1: {"sqls_handed_over": 58}, Q2: {"sqls_handed_over": 30}})
    svg = str(sql_attainment_svg(result.rows))
    assert svg.count("<rect") == 2
    assert "goal-bar-green" in svg and "goal-bar-red" in svg
    assert "<script" not in svg


def test_a_bar_label_never_sits_on_the_100_percent_line():
    # 52 / 55 = 94,5 %: the bar ends just below the 100 % line, where its label would be.
    agreement, _ = make_signed_goals_agreement()
    result = report(agreement, {Q1: {"sqls_handed_over": 52}, Q2: {"sqls_handed_over": 60}})
    svg = str(sql_attainment_svg(result.rows))

    lines = [float(y) for y in re.findall(r'<line x1="[\d.]+" y1="([\d.]+)"', svg)]
    labels = {
        text: float(y)
        for y, text in re.findall(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>([\d,]+\xa0%)</text>', svg)
    }
    for text in ("94,5\xa0%", "109,1\xa0%"):
        baseline = labels[text]
        # The glyphs reach from about 10 units above the baseline to 2 below it.
        assert not any(baseline - 11 <= line <= baseline + 2 for line in lines), text
    assert "<title>Balkendiagramm: Erreichung des SQL-Ziels je Periode: Q1 2026 94,5" in svg


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_dashboard_queries_do_not_grow_with_periods_or_agreements(client):
    organisation = make_organisation()
    agreement, users = make_signed_goals_agreement(organisation, sql_period=SqlPeriod.YEAR)
    client.force_login(users[Role.MANAGEMENT])
    one_period = _count_queries(client, f"/agreements/{agreement.pk}/ziele/")
    overview_one = _count_queries(client, "/ziele/")

    monthly, _ = make_signed_goals_agreement(organisation, sql_period=SqlPeriod.MONTH)
    marketing = next(u for u in organisation.memberships.all() if u.role == Role.MARKETING).user
    for period in agreement_periods(monthly):
        actuals_save(
            agreement=monthly,
            user=marketing,
            role=Role.MARKETING,
            entries=[ActualsEntry(period_start=period.start, values={"sqls_handed_over": 5})],
        )
    make_signed_goals_agreement(organisation)
    assert _count_queries(client, f"/agreements/{monthly.pk}/ziele/") == one_period
    assert _count_queries(client, "/ziele/") == overview_one
