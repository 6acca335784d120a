"""Ist-Werte (agreements.actuals): who reports which figure, by form and domain function."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from agreements.actuals import ActualsEntry, ActualsRefused, actuals_save
from agreements.audit import audit_verify
from agreements.enums import AuditAction, Role
from agreements.models import AuditEvent, PeriodActuals
from tests.factories import (
    make_complete_agreement,
    make_member,
    make_organisation,
    make_signed_goals_agreement,
)

pytestmark = pytest.mark.django_db

Q1, Q2 = datetime.date(2026, 1, 1), datetime.date(2026, 4, 1)


@pytest.fixture
def signed():
    return make_signed_goals_agreement()


def test_marketing_reports_the_marketing_figures(signed):
    agreement, users = signed
    actuals_save(
        agreement=agreement,
        user=users[Role.MARKETING],
        role=Role.MARKETING,
        entries=[ActualsEntry(Q1, {"sqls_handed_over": 58, "funnel_visits": 7_200})],
    )
    stored = PeriodActuals.objects.get(agreement=agreement, period_start=Q1)
    assert (stored.sqls_handed_over, stored.funnel_visits) == (58, 7_200)
    assert stored.period_end == datetime.date(2026, 3, 31)
    assert stored.updated_by == users[Role.MARKETING]


def test_sales_adds_its_figures_without_touching_marketings(signed):
    agreement, users = signed
    actuals_save(
        agreement=agreement,
        user=users[Role.MARKETING],
        role=Role.MARKETING,
        entries=[ActualsEntry(Q1, {"sqls_handed_over": 58})],
    )
    actuals_save(
        agreement=agreement,
        user=users[Role.SALES],
        role=Role.SALES,
        entries=[ActualsEntry(Q1, {"leads_in_time": 50, "revenue": Decimal("1234.50")})],
    )
    stored = PeriodActuals.objects.get(agreement=agreement, period_start=Q1)
    assert (stored.sqls_handed_over, stored.leads_in_time) == (58, 50)
    assert stored.revenue == Decimal("1234.50")


@pytest.mark.parametrize(
    ("role", "field"),
    [
        (Role.MARKETING, "revenue"),
        (Role.MARKETING, "leads_in_time"),
        (Role.SALES, "sqls_handed_over"),
        (Role.SALES, "funnel_mql"),
        (Role.MANAGEMENT, "sqls_handed_over"),
    ],
)
def test_a_role_cannot_report_another_roles_figure(signed, role, field):
    agreement, users = signed
    with pytest.raises(ActualsRefused):
        actuals_save(
            agreement=agreement,
            user=users[role],
            role=role,
            entries=[ActualsEntry(Q1, {field: 1})],
        )
    assert not PeriodActuals.objects.exists()


def test_more_leads_in_time_than_sqls_is_refused_and_nothing_is_saved(signed):
    agreement, users = signed
    actuals_save(
        agreement=agreement,
        user=users[Role.MARKETING],
        role=Role.MARKETING,
        entries=[
            ActualsEntry(Q1, {"sqls_handed_over": 10}),
            ActualsEntry(Q2, {"sqls_handed_over": 5}),
        ],
    )
    with pytest.raises(ValidationError) as error:
        actuals_save(
            agreement=agreement,
            user=users[Role.SALES],
            role=Role.SALES,
            entries=[
                ActualsEntry(Q1, {"leads_in_time": 9}),
                ActualsEntry(Q2, {"leads_in_time": 6}),
            ],
        )
    assert "Periode ab 01.04.2026" in error.value.messages[0]
    # The valid first entry was rolled back with the bad second one.
    assert list(PeriodActuals.objects.values_list("leads_in_time", flat=True)) == [None, None]


def test_a_date_that_starts_no_period_is_refused(signed):
    agreement, users = signed
    with pytest.raises(ValidationError):
        actuals_save(
            agreement=agreement,
            user=users[Role.MARKETING],
            role=Role.MARKETING,
            entries=[ActualsEntry(datetime.date(2026, 2, 1), {"sqls_handed_over": 1})],
        )


def test_a_draft_takes_no_figures():
    draft = make_complete_agreement(year=2026)
    with pytest.raises(ActualsRefused):
        actuals_save(
            agreement=draft,
            user=draft.marketing_representative,
            role=Role.MARKETING,
            entries=[ActualsEntry(Q1, {"sqls_handed_over": 1})],
        )


# --- The pages, by role -------------------------------------------------------------------


def urls(agreement):
    pk = agreement.pk
    return {
        "agreement_goals": f"/agreements/{pk}/ziele/",
        "agreement_goals_pdf": f"/agreements/{pk}/ziele/pdf/",
        "agreement_actuals": f"/agreements/{pk}/ist-werte/",
        "agreement_actuals_import": f"/agreements/{pk}/ist-werte/import/",
        "agreement_actuals_csv": f"/agreements/{pk}/ist-werte/csv/",
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            Role.MANAGEMENT,
            {
                "agreement_goals": 200,
                "agreement_goals_pdf": 200,
                "agreement_actuals": 200,
                "agreement_actuals_import": 403,
                "agreement_actuals_csv": 200,
            },
        ),
        (
            Role.MARKETING,
            {
                "agreement_goals": 200,
                "agreement_goals_pdf": 200,
                "agreement_actuals": 200,
                "agreement_actuals_import": 200,
                "agreement_actuals_csv": 200,
            },
        ),
    ],
)
def test_every_member_reads_the_goals_but_only_authors_enter_figures(
    client, signed, role, expected
):
    agreement, users = signed
    client.force_login(users[role])
    assert {name: client.get(url).status_code for name, url in urls(agreement).items()} == expected


def test_management_cannot_post_figures(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MANAGEMENT])
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/",
        {"period": "2026-01-01", "p20260101-sqls_handed_over": "5"},
    )
    assert response.status_code == 403
    assert not PeriodActuals.objects.exists()


def test_another_organisations_member_gets_404_everywhere(client, signed):
    agreement, _ = signed
    client.force_login(make_member(make_organisation(), Role.MANAGEMENT))
    assert {url: client.get(url).status_code for url in urls(agreement).values()} == {
        url: 404 for url in urls(agreement).values()
    }
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/",
        {"period": "2026-01-01", "p20260101-sqls_handed_over": "5"},
    )
    assert response.status_code == 404


def test_a_drafts_goals_are_forbidden(client):
    draft = make_complete_agreement(year=2026)
    client.force_login(draft.marketing_representative)
    assert {url: client.get(url).status_code for url in urls(draft).values()} == {
        url: 403 for url in urls(draft).values()
    }


def test_the_form_saves_marketings_figures_and_ignores_posted_sales_figures(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/",
        {
            "period": "2026-04-01",
            "p20260401-sqls_handed_over": "1’234",
            "p20260401-funnel_visits": "34.000",
            "p20260401-revenue": "999999",  # a disabled field: not marketing's
        },
    )
    assert response.status_code == 302
    stored = PeriodActuals.objects.get(agreement=agreement, period_start=Q2)
    assert (stored.sqls_handed_over, stored.funnel_visits, stored.revenue) == (1234, 34000, None)


def test_a_change_of_figures_is_an_audit_event_with_old_and_new_values(client, signed):
    agreement, users = signed
    actuals_save(
        agreement=agreement,
        user=users[Role.SALES],
        role=Role.SALES,
        entries=[ActualsEntry(Q1, {"revenue": Decimal("1000.00")})],
    )
    client.force_login(users[Role.SALES])

    client.post(
        f"/agreements/{agreement.pk}/ist-werte/",
        {"period": "2026-01-01", "p20260101-revenue": "1’500.50"},
        REMOTE_ADDR="198.51.100.61",
    )

    events = AuditEvent.objects.filter(agreement=agreement, action=AuditAction.ACTUALS_SAVED)
    first, second = events.order_by("sequence")
    assert first.details["changes"] == {"2026-01-01": {"revenue": [None, "1000.00"]}}
    assert second.details["changes"] == {"2026-01-01": {"revenue": ["1000.00", "1500.50"]}}
    assert (second.actor, second.ip_address) == (users[Role.SALES], "198.51.100.61")
    assert audit_verify(agreement).intact


def test_saving_the_same_figures_again_records_nothing(signed):
    agreement, users = signed
    entry = ActualsEntry(Q1, {"sqls_handed_over": 58})
    for _ in range(2):
        actuals_save(
            agreement=agreement, user=users[Role.MARKETING], role=Role.MARKETING, entries=[entry]
        )

    assert (
        AuditEvent.objects.filter(action=AuditAction.ACTUALS_SAVED, agreement=agreement).count()
        == 1
    )


def test_the_goals_pdf_keeps_the_one_font_configuration(client, signed, monkeypatch):
    # A new WeasyPrint font configuration per render grew the worker by ~270 KiB each time;
    # the goals PDF uses the one kept for the SLA's PDF, like every render.
    import weasyprint.document

    made = []

    class CountedFontConfiguration(weasyprint.document.FontConfiguration):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(weasyprint.document, "FontConfiguration", CountedFontConfiguration)
    agreement, users = signed
    client.force_login(users[Role.MANAGEMENT])

    for _ in range(2):
        response = client.get(f"/agreements/{agreement.pk}/ziele/pdf/")
        assert response.content.startswith(b"%PDF-")

    assert made == []


def test_the_form_shows_the_other_roles_fields_disabled(client, signed):
    agreement, users = signed
    client.force_login(users[Role.SALES])
    page = client.get(f"/agreements/{agreement.pk}/ist-werte/").content.decode()
    assert (
        'name="p20260101-sqls_handed_over" value="" inputmode="numeric" autocomplete="off" disabled'
        in page
    )
    assert 'name="p20260101-revenue" value="" inputmode="decimal" autocomplete="off">' in page


def test_the_form_explains_a_bad_figure(client, signed):
    agreement, users = signed
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/",
        {"period": "2026-01-01", "p20260101-revenue": "12x"},
    )
    assert response.status_code == 400
    assert "„12x“ ist keine Zahl" in response.content.decode()
    assert not PeriodActuals.objects.exists()


def test_the_goals_pdf_is_a_pdf_for_management(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MANAGEMENT])
    response = client.get(f"/agreements/{agreement.pk}/ziele/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "Zielerreichung" in response["Content-Disposition"]


def test_management_reads_the_figures_in_swiss_format_without_forms(client, signed):
    agreement, users = signed
    actuals_save(
        agreement=agreement,
        user=users[Role.SALES],
        role=Role.SALES,
        entries=[ActualsEntry(Q1, {"revenue": Decimal("184500.00")})],
    )
    client.force_login(users[Role.MANAGEMENT])
    page = client.get(f"/agreements/{agreement.pk}/ist-werte/").content.decode()
    assert "184’500.00" in page
    assert '<form method="post" class="actuals-form"' not in page
