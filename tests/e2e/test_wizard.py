"""A marketing lead writes a whole SLA in the browser, leaves, comes back, and reviews it."""

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.models import Agreement

DEFINITIONS = {
    "Visits": "alle Sitzungen auf der Website",
    "Contacts": "Personen mit E-Mail-Adresse im CRM",
    "Leads": "Contacts mit Kaufinteresse",
    "Prospects": "Leads mit erstem Gespräch",
    "Marketing-qualifizierte Leads (MQL)": "Leads mit Score ab 60",
    "Sales-qualifizierte Leads (SQL)": "von Sales angenommene MQL",
    "Conversion Rate X zu Y": "Anteil der MQL, die SQL werden",
    "Conversion Rate Y zu Z": "Anteil der SQL, die Kunden werden",
    "Close-Rate": "gewonnene durch abgeschlossene Deals",
    "Attribution": "Zuordnung des Umsatzes zu Kampagnen",
    "DEAL-Stages": "Termin, Angebot, Verhandlung, Abschluss",
    "„Closed-Won“": "unterzeichnete Aufträge.",
    "Umsatz": "fakturierter Netto-Umsatz",
}


def test_marketing_writes_an_sla_through_every_step(
    page, live_server, login, screenshot, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")  # signs the 2026 SLA: not in the loop
    login("marketing")

    page.get_by_role("link", name="Neues SLA").first.click()
    expect(
        page.get_by_role("heading", name="Grunddaten & Geltungsbereich", exact=True)
    ).to_be_visible()
    page.get_by_label("Gültig ab").fill("01.01.2028")
    page.get_by_label("Gültig bis").fill("31.12.2028")
    page.get_by_label("Geschäftseinheit (geografisch)").fill("Romandie")
    page.get_by_label("Gruppe / Untergruppe").fill("Division Handel")
    page.get_by_role("button", name="SLA anlegen").click()

    expect(page.get_by_role("heading", name="Parteien", exact=True)).to_be_visible()
    page.get_by_label("Vertretung Sales").select_option(label="Marco Brunner")
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Rahmen", exact=True)).to_be_visible()
    page.get_by_label("Inbound Marketing & Sales System").fill("Playbook 2028")
    page.get_by_label("Erstellt am").fill("01.11.2027")
    page.get_by_role("button", name="Weiter", exact=True).click()

    # Leave halfway: log out, come back, resume where the draft stops.
    expect(page.get_by_role("heading", name="Definitionen", exact=True)).to_be_visible()
    page.get_by_role("button", name="Abmelden").click()
    login("marketing")
    agreement = Agreement.objects.get(start_date__year=2028)
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    page.get_by_role("link", name="Weiter bearbeiten").click()
    expect(page.get_by_role("heading", name="Definitionen", exact=True)).to_be_visible()

    for label, text in DEFINITIONS.items():
        page.get_by_label(label, exact=True).fill(text)
    page.get_by_label("Conversion Rate 1: von (X)").select_option("mql")
    page.get_by_label("Conversion Rate 1: zu (Y)").select_option("sql")
    page.get_by_label("Conversion Rate 2: zu (Z)").select_option("customers")
    page.get_by_role("button", name="Weitere Definition hinzufügen").click()
    page.get_by_label("Begriff").last.fill("Churn")
    page.locator("#definition-forms textarea").last.fill("Kunden, die nicht verlängern")
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Zielsetzungen & Metriken", exact=True)).to_be_visible()
    page.get_by_label("Anzahl SQL").fill("65")
    page.get_by_label("Zeitraum").select_option(label="Quartal")
    page.get_by_label("Bearbeitung innerhalb (Stunden)").fill("24")
    page.get_by_label("Sales meldet nach Abschluss").select_option(label="Umsatz und Attribution")
    page.get_by_label("SQL-Metriken").check()
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Verantwortung", exact=True)).to_be_visible()
    page.get_by_label("Stellvertretung Marketing").fill("Lukas Frei")
    page.get_by_label("Verantwortung Sales").fill("Marco Brunner")
    page.get_by_label("Stellvertretung Sales").fill("Sandra Huber")
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Reporting & Erneuerung", exact=True)).to_be_visible()
    page.get_by_label("Reporting über").select_option(label="HubSpot Sales Dashboard")
    page.get_by_label("Zu Handen").select_option(label="Geschäftsleitung")
    page.get_by_label("Austausch").select_option(label="monatlich")
    page.get_by_label("Erneuerung per").fill("01.12.2028")
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Funnel (Anhang)", exact=True)).to_be_visible()
    for label, figure in (("Visits", "34’000"), ("Target Accounts", "450"),
                          ("Marketing Qualified Leads", "570"), ("Prospects", "290"),
                          ("Sales Qualified Leads", "260"), ("Customers", "200")):  # fmt: skip
        page.get_by_label(label, exact=False).first.fill(figure)
    expect(page.locator("#funnel-form")).to_contain_text(
        "1,27\u00a0:\u00a01"
    )  # computed while typing
    screenshot("funnel")
    page.get_by_role("button", name="Weiter", exact=True).click()

    expect(page.get_by_role("heading", name="Prüfen", exact=True)).to_be_visible()
    expect(page.locator("#complete")).to_contain_text("vollständig")
    expect(page.locator("#missing")).to_have_count(0)
    expect(page.locator(".sla-document")).to_contain_text(
        "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG"
    )
    expect(page.locator(".sla-document")).to_contain_text("Als Churn gelten Kunden, die nicht")
    screenshot("review")
    agreement.refresh_from_db()
    assert agreement.funnel_visits == 34_000
    assert agreement.further_definitions.get().term == "Churn"
