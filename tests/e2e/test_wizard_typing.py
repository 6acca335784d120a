"""The wizard as people really type and click (issue 19), in Chromium.

Enter on every step, figures typed the German way, two co-authors at once, leaving
with unsaved input, the live preview, the error pages and the phone's width.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from agreements.enums import AgreementStatus, Role
from agreements.models import Agreement
from tests.factories import make_complete_agreement, make_member, make_organisation

PASSWORD = "secret-pass-123"  # the factories' password

# Step by step: a text field, what is typed into it, the field it is stored in.
ENTER_PER_STEP = [
    ("Grunddaten & Geltungsbereich", "#id_geographic_unit", "Romandie", "geographic_unit"),
    ("Parteien", "#id_marketing_function", "Inbound Marketing CH", "marketing_function"),
    ("Rahmen", "#id_system_name", "Playbook 2029", "system_name"),
    ("Definitionen", "#id_definitions-0-term", "Zielkunden", None),
    ("Zielsetzungen & Metriken", "#id_sql_target", "70", "sql_target"),
    ("Verantwortung", "#id_marketing_deputy", "Lukas Frei-Muster", "marketing_deputy"),
    ("Reporting & Erneuerung", "#id_reporting_channel_other", "Teams", "reporting_channel_other"),
    ("Funnel (Anhang)", "#id_funnel_visits", "41.500", "funnel_visits"),
]
STORED = {"sql_target": 70, "funnel_visits": 41500}


@pytest.fixture
def draft(transactional_db) -> Agreement:
    """A complete draft of the Beispiel AG; its representatives log in with PASSWORD."""
    return make_complete_agreement(make_organisation("Beispiel AG"))


def step_url(live_server, agreement, slug: str) -> str:
    return f"{live_server.url}/agreements/{agreement.pk}/bearbeiten/{slug}/"


def test_enter_in_a_text_field_of_every_step_saves_and_goes_on(
    page: Page, live_server, login, draft
):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "grunddaten"))
    for index, (title, selector, text, name) in enumerate(ENTER_PER_STEP):
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        expect(page.locator("#step-position")).to_contain_text(f"Schritt {index + 1} von 9")
        page.locator(selector).fill(text)
        page.locator(selector).press("Enter")
        following = ENTER_PER_STEP[index + 1][0] if index + 1 < len(ENTER_PER_STEP) else "Prüfen"
        expect(page.get_by_role("heading", name=following, exact=True)).to_be_visible()
        if name:
            draft.refresh_from_db()
            assert getattr(draft, name) == STORED.get(name, text), name
    assert draft.further_definitions.get().term == "Zielkunden"


def test_enter_in_a_textarea_is_a_new_line(page: Page, live_server, login, draft):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "definitionen"))
    visits = page.get_by_label("Visits", exact=True)
    visits.press("End")
    visits.press("Enter")
    visits.press_sequentially("zweite Zeile")
    expect(page.get_by_role("heading", name="Definitionen", exact=True)).to_be_visible()
    assert "\nzweite Zeile" in visits.input_value()


def test_a_german_thousands_point_is_read_as_thousands_and_shown_back_swiss(
    page: Page, live_server, login, draft, screenshot
):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "funnel"))
    page.locator("#id_funnel_visits").fill("34.000")
    page.locator("#id_funnel_mql").fill("34,5")
    page.get_by_role("button", name="Speichern").click()
    # Refused with what was typed, nothing lost, nothing stored.
    expect(page.locator("#error-summary")).to_contain_text("„34,5“ ist keine ganze Zahl")
    expect(page.locator("#id_funnel_visits")).to_have_value("34.000")
    screenshot("refused")
    draft.refresh_from_db()
    assert draft.funnel_mql == 570 and draft.funnel_visits == 34000  # the demo's own figures

    page.locator("#id_funnel_visits").fill("36.000")
    page.locator("#id_funnel_mql").fill("580")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator("#id_funnel_visits")).to_have_value("36’000")
    draft.refresh_from_db()
    assert (draft.funnel_visits, draft.funnel_mql) == (36000, 580)


def test_co_authors_on_different_fields_both_save_and_the_same_field_asks(
    browser, page: Page, live_server, login, draft, screenshot
):
    marketing = page
    login(draft.marketing_representative.username, PASSWORD)
    sales_context = browser.new_context(locale="de-CH", viewport={"width": 1280, "height": 900})
    sales = login(draft.sales_representative.username, PASSWORD, on=sales_context.new_page())

    # Both open "Verantwortung"; each changes their own deputy: both saves go through.
    for author in (marketing, sales):
        author.goto(step_url(live_server, draft, "verantwortung"))
    sales.get_by_label("Stellvertretung Sales").fill("Sandra Meier")
    sales.get_by_role("button", name="Speichern").click()
    expect(sales.locator(".alert-success")).to_contain_text("Gespeichert")
    marketing.get_by_label("Stellvertretung Marketing").fill("Lukas Keller")
    marketing.get_by_role("button", name="Speichern").click()
    expect(marketing.locator(".alert-success")).to_contain_text("Gespeichert")
    draft.refresh_from_db()
    assert (draft.sales_deputy, draft.marketing_deputy) == ("Sandra Meier", "Lukas Keller")

    # Now both change "Verantwortung Sales": the second one chooses, nothing is lost.
    sales.get_by_label("Verantwortung Sales").fill("Marco B. Brunner")
    marketing.get_by_label("Verantwortung Sales").fill("Marco Brunner-Keller")
    marketing.get_by_label("Verantwortung Marketing").fill("Anna K. Keller")
    sales.get_by_role("button", name="Speichern").click()
    expect(sales.locator(".alert-success")).to_contain_text("Gespeichert")
    marketing.get_by_role("button", name="Speichern").click()
    conflict = marketing.locator("#conflict-sales_responsible")
    expect(conflict).to_contain_text("Marco Brunner-Keller")
    expect(conflict).to_contain_text("Marco B. Brunner")
    expect(marketing.locator("#conflict-marketing_responsible")).to_have_count(0)
    expect(marketing.get_by_label("Verantwortung Marketing")).to_have_value("Anna K. Keller")
    screenshot("conflict")
    conflict.get_by_text("Gespeichert von").click()
    marketing.get_by_role("button", name="Speichern").click()
    expect(marketing.locator(".alert-success")).to_contain_text("Gespeichert")
    draft.refresh_from_db()
    assert (draft.sales_responsible, draft.marketing_responsible) == (
        "Marco B. Brunner",
        "Anna K. Keller",
    )
    sales_context.close()


def test_leaving_with_unsaved_input_asks_first(page: Page, live_server, login, draft):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "grunddaten"))
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_role("link", name="Übersicht").first.click()  # nothing typed: no question
    page.wait_for_url(f"{live_server.url}/")
    page.go_back()
    field = page.locator("#id_geographic_unit")
    field.click()
    field.press("End")
    field.press_sequentially(" Ost")
    page.get_by_role("link", name="Übersicht").first.click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.url == step_url(live_server, draft, "grunddaten")
    # A step in the list saves before it moves: no question, and the input is kept.
    page.locator("#wizard-steps").get_by_role("button", name="Rahmen").click()
    expect(page.get_by_role("heading", name="Rahmen", exact=True)).to_be_visible()
    assert asked == ["beforeunload"]
    draft.refresh_from_db()
    assert draft.geographic_unit == "Deutschschweiz Ost"


def test_the_preview_follows_typing_and_saves_nothing(
    page: Page, live_server, login, draft, screenshot
):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "grunddaten"))
    preview = page.locator("#preview-document")
    form_box, preview_box = page.locator("#step-form").bounding_box(), preview.bounding_box()
    assert preview_box["x"] > form_box["x"] + form_box["width"]  # beside the form
    page.locator("#id_geographic_unit").fill("Tessin")
    expect(preview.locator("#sla-2")).to_contain_text("Geschäftseinheit Tessin", timeout=1_000)
    page.locator("#id_group_subgroup").fill("")
    expect(preview.locator("#sla-2 mark.placeholder")).to_contain_text("[GRUPPE_UNTERGRUPPE]")
    screenshot("preview")
    draft.refresh_from_db()
    assert draft.geographic_unit == "Deutschschweiz"  # never saved by itself


def test_on_a_phone_figures_fit_and_the_preview_is_one_tap_away(
    page: Page, live_server, login, draft, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "funnel"))
    for field in page.locator(".funnel-figure").all():
        field.fill("1’234’567")
        assert field.evaluate("el => el.scrollWidth <= el.clientWidth"), "the figure is clipped"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#id_funnel_target_accounts").fill("2’000’000")
    expect(page.locator("#funnel-form tbody tr").nth(1).locator(".funnel-hint")).to_be_visible()
    screenshot("funnel")
    page.get_by_role("link", name="Vorschau des Dokuments").click()
    expect(page.locator("#preview")).to_be_in_viewport()
    expect(page.locator("#preview-document")).to_contain_text("2’000’000")


def test_a_length_limit_is_counted_and_the_first_step_counts_as_step_one(
    page: Page, live_server, login, draft
):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(f"{live_server.url}/agreements/new/")
    expect(page.locator("#step-position")).to_contain_text("Schritt 1 von 9")
    field = page.locator("#id_geographic_unit")
    field.fill("Romandie")
    expect(page.locator("#id_geographic_unit-counter")).to_have_text("8 von 200 Zeichen")
    field.fill("x" * 200)
    expect(page.locator("#id_geographic_unit-counter")).to_have_class(re.compile("text-danger"))


def test_saving_a_step_after_submitting_leads_to_the_sla_with_what_to_do(
    page: Page, live_server, login, draft
):
    login(draft.marketing_representative.username, PASSWORD)
    page.goto(step_url(live_server, draft, "pruefen"))
    page.get_by_role("button", name="Zur Unterzeichnung einreichen").click()
    expect(page.locator("#signoff")).to_be_visible()
    page.go_back()  # the browser's Back, to the review ...
    page.goto(step_url(live_server, draft, "grunddaten"))  # ... or a step from its history
    expect(page).to_have_url(re.compile(rf"/agreements/{draft.pk}/$"))
    expect(page.locator(".alert-warning").first).to_contain_text("zur Unterzeichnung eingereicht")
    assert Agreement.objects.get(pk=draft.pk).status == AgreementStatus.AWAITING_SIGNATURES


@pytest.mark.parametrize(
    ("locale", "title", "way_on"),
    [
        ("de-CH", "Diese Seite gibt es nicht", "Zur Übersicht"),
        ("en", "This page does not exist", "Go to the dashboard"),
    ],
)
def test_an_unknown_address_is_our_page_in_both_languages(
    browser, live_server, transactional_db, locale, title, way_on
):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    response = page.goto(f"{live_server.url}/gibt-es-nicht/")
    assert response.status == 404
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.get_by_role("link", name=way_on).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # the way on, via the log-in
    context.close()


def test_management_gets_a_forbidden_page_with_the_way_back_to_the_sla(
    page: Page, live_server, login, draft
):
    manager = make_member(draft.organisation, Role.MANAGEMENT, "chefin")
    login(manager.username, PASSWORD)
    response = page.goto(step_url(live_server, draft, "grunddaten"))
    assert response.status == 403
    expect(page.get_by_role("heading", name="Dafür fehlt Ihnen die Berechtigung")).to_be_visible()
    page.get_by_role("link", name="Zum SLA").click()
    expect(page).to_have_url(re.compile(rf"/agreements/{draft.pk}/$"))
