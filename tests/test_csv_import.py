"""The CSV import and export of Ist-Werte (agreements.actuals_csv), and its pages."""

import datetime
from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements.actuals_csv import CsvValueError, actuals_csv_parse, parse_figure
from agreements.enums import Role
from agreements.models import PeriodActuals
from tests.factories import make_signed_goals_agreement

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "amount", "expected"),
    [
        ("34.000", False, 34000),
        ("1.234,50", True, Decimal("1234.50")),
        ("CHF 184’500.00", True, Decimal("184500.00")),
    ],
)
def test_figures_are_read_as_the_forms_read_them(text, amount, expected):
    """The CSV reads with agreements.numbers (tests/test_numbers.py has every case)."""
    assert parse_figure(text, amount=amount) == expected


@pytest.mark.parametrize(
    ("text", "amount", "message"),
    [
        ("12x", False, "„12x“ ist keine Zahl"),
        ("-5", False, "„-5“: Die Zahl darf nicht negativ sein."),
        ("1,5", False, "„1,5“ ist keine ganze Zahl"),
        ("1.234,567", True, "höchstens zwei Nachkommastellen"),
    ],
)
def test_bad_numbers_say_what_is_wrong(text, amount, message):
    with pytest.raises(CsvValueError, match=message):
        parse_figure(text, amount=amount)


@pytest.fixture
def signed():
    return make_signed_goals_agreement()


def parse(agreement, text: str, role=Role.MARKETING, encoding="utf-8"):
    return actuals_csv_parse(agreement=agreement, data=text.encode(encoding), role=role)


def test_semicolons_a_bom_swiss_numbers_and_swiss_dates(signed):
    agreement, _ = signed
    result = parse(
        agreement,
        "\ufeffPeriode;SQL_uebergeben;Visits;MQL\r\n"
        "31.03.2026;58;34’000;124\r\n"
        "30.06.2026;49;34'000;\r\n",
    )
    assert result.errors == []
    assert [(e.period_start, e.values, e.line) for e in result.entries] == [
        (
            datetime.date(2026, 1, 1),
            {"sqls_handed_over": 58, "funnel_visits": 34000, "funnel_mql": 124},
            2,
        ),
        # An empty cell leaves the stored figure as it is: not in the values.
        (datetime.date(2026, 4, 1), {"sqls_handed_over": 49, "funnel_visits": 34000}, 3),
    ]


def test_commas_iso_dates_and_german_amounts_for_sales(signed):
    agreement, _ = signed
    result = parse(
        agreement,
        'periode,leads_fristgerecht,umsatz,umsatz_attribuiert\n2026-01-01,52,"1.234,50","1’000.05"\n',
        role=Role.SALES,
    )
    assert result.errors == []
    assert result.entries[0].values == {
        "leads_in_time": 52,
        "revenue": Decimal("1234.50"),
        "attributed_revenue": Decimal("1000.05"),
    }


def test_excels_windows_encoding_is_read(signed):
    agreement, _ = signed
    result = parse(agreement, "periode;sql_übergeben\n01.01.2026;5\n", encoding="cp1252")
    assert result.errors == [] and result.entries[0].values == {"sqls_handed_over": 5}


def test_the_other_roles_columns_are_ignored_and_named(signed):
    agreement, _ = signed
    result = parse(agreement, "periode;sql_uebergeben;umsatz;customers\n01.01.2026;5;100;3\n")
    assert result.entries[0].values == {"sqls_handed_over": 5}
    assert result.ignored_columns == ["umsatz", "customers"]


def test_every_bad_line_is_named_with_its_column(signed):
    agreement, _ = signed
    result = parse(
        agreement,
        "periode;sql_uebergeben;visits\n"
        "01.01.2026;58;7000\n"
        "32.13.2026;5;1\n"
        "01.04.2026;fünf;-3\n"
        "01.01.2027;5;1\n"
        "15.02.2026;5;1\n"
        "01.07.2026;5\n",
    )
    assert result.errors == [
        "Zeile 3, Spalte „periode“: „32.13.2026“ ist kein Datum "
        "(erwartet 31.12.2026 oder 2026-12-31).",
        "Zeile 4, Spalte „sql_uebergeben“: „fünf“ ist keine Zahl. Bitte eine ganze Zahl "
        "eingeben, z. B. 34’000.",
        "Zeile 4, Spalte „visits“: „-3“: Die Zahl darf nicht negativ sein.",
        "Zeile 5, Spalte „periode“: 01.01.2027 liegt in keiner Periode der Vereinbarung.",
        "Zeile 6: Die Periode steht schon in Zeile 2.",
        "Zeile 7: 2 Felder statt 3.",
    ]
    assert result.entries == []  # not even the good line


def test_more_leads_in_time_than_the_stored_sqls_is_a_bad_line(signed):
    agreement, _ = signed
    PeriodActuals.objects.create(
        agreement=agreement,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 3, 31),
        sqls_handed_over=10,
    )
    result = parse(agreement, "periode;leads_fristgerecht\n01.01.2026;11\n", role=Role.SALES)
    assert result.errors == [
        "Zeile 2, Spalte „leads_fristgerecht“: 11 Leads fristgerecht bearbeitet, "
        "aber nur 10 SQL übergeben."
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sql_uebergeben\n5\n", "Zeile 1: Die Spalte „periode“ fehlt."),
        ("periode;sqls;visits\n", "Zeile 1: Unbekannte Spalte(n): „sqls“."),
        (
            "periode;umsatz\n01.01.2026;5\n",
            "Zeile 1: Die Datei enthält keine Spalte, die Sie erfassen.",
        ),
        ("periode;sql_uebergeben\n", "Die Datei enthält keine Datenzeilen."),
        ("", "Die Datei ist leer."),
    ],
)
def test_a_file_without_usable_columns_or_lines_is_refused(signed, text, error):
    agreement, _ = signed
    assert parse(agreement, text).errors == [error]


# --- The pages: upload, preview, confirm ---------------------------------------------


def upload(client, agreement, text: str):
    return client.post(
        f"/agreements/{agreement.pk}/ist-werte/import/",
        {"csv_file": SimpleUploadedFile("report.csv", text.encode("utf-8-sig"), "text/csv")},
    )


def test_preview_first_then_everything_is_saved_on_confirmation(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    preview = upload(client, agreement, "periode;sql_uebergeben;visits\n31.03.2026;58;7’200\n")
    assert preview.status_code == 200
    assert "Vorschau" in preview.content.decode()
    assert not PeriodActuals.objects.exists()  # nothing before the confirmation

    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/import/", {"payload": preview.context["payload"]}
    )
    assert response.status_code == 302
    stored = PeriodActuals.objects.get()
    assert (stored.sqls_handed_over, stored.funnel_visits) == (58, 7200)
    assert stored.updated_by == users[Role.MARKETING]


def test_a_file_with_a_bad_line_saves_nothing(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    response = upload(client, agreement, "periode;sql_uebergeben\n31.03.2026;58\n30.06.2026;x\n")
    assert response.status_code == 400
    assert "Zeile 3, Spalte „sql_uebergeben“: „x“ ist keine Zahl." in response.content.decode()
    assert "payload" not in response.context
    assert not PeriodActuals.objects.exists()


def test_a_number_of_thousands_of_digits_is_a_german_error_not_a_500(client, signed):
    # Python's int() refuses more than 4'300 digits with a ValueError of its own; the
    # reader refuses long input before converting anything.
    agreement, users = signed
    client.force_login(users[Role.MARKETING])

    response = upload(client, agreement, f"periode;sql_uebergeben\n31.03.2026;{'9' * 5000}\n")

    assert response.status_code == 400
    assert "Die Eingabe ist zu lang für eine Zahl" in response.content.decode()
    assert not PeriodActuals.objects.exists()


def test_a_changed_preview_is_refused(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    preview = upload(client, agreement, "periode;sql_uebergeben\n31.03.2026;58\n")
    signature = preview.context["payload"].rsplit(":", 1)[1]
    forged = signing.dumps({"agreement": agreement.pk, "entries": []}).rsplit(":", 1)[0]
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/import/", {"payload": f"{forged}:{signature}"}
    )
    assert response.status_code == 302
    assert response.url == f"/agreements/{agreement.pk}/ist-werte/import/"
    assert not PeriodActuals.objects.exists()


def test_a_preview_is_only_good_for_the_user_who_uploaded_it(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    preview = upload(client, agreement, "periode;sql_uebergeben\n31.03.2026;58\n")
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/agreements/{agreement.pk}/ist-werte/import/", {"payload": preview.context["payload"]}
    )
    assert response.status_code == 403
    assert not PeriodActuals.objects.exists()


def test_the_export_opens_in_excel_and_imports_again(client, signed):
    agreement, users = signed
    client.force_login(users[Role.MARKETING])
    upload_text = "periode;sql_uebergeben;visits\n31.03.2026;58;7’200\n"
    preview = upload(client, agreement, upload_text)
    client.post(
        f"/agreements/{agreement.pk}/ist-werte/import/", {"payload": preview.context["payload"]}
    )
    client.force_login(users[Role.MANAGEMENT])
    response = client.get(f"/agreements/{agreement.pk}/ist-werte/csv/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffperiode;periode_bis;sql_uebergeben;leads_fristgerecht")
    assert lines[1] == "01.01.2026;31.03.2026;58;;;;7200;;;;;"
    assert len(lines) == 5  # one line per quarter

    again = actuals_csv_parse(agreement=agreement, data=response.content, role=Role.MARKETING)
    assert again.errors == []
    assert again.entries[0].values == {"sqls_handed_over": 58, "funnel_visits": 7200}
