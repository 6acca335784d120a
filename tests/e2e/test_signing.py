"""Sales submits the demo SLA; marketing and sales each sign it in the browser."""

import re

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.enums import AgreementStatus
from agreements.models import Agreement

CONSENT = (
    "Ich unterzeichne diese Vereinbarung elektronisch und bestätige, das oben angezeigte "
    "Dokument gelesen zu haben."
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SWISS_DATE = r"\d\d\.\d\d\.\d{4}"


def sign(page, *, name: str, password: str = "demo") -> None:
    page.get_by_label("Ihr Passwort").fill(password)
    page.get_by_label("Ihr vollständiger Name").fill(name)
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Verbindlich unterzeichnen").click()


def test_sales_submits_and_both_representatives_sign(
    page, live_server, login, screenshot, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")  # it seals the signed 2026 demo SLA
    agreement = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    detail = f"{live_server.url}/agreements/{agreement.pk}/"

    # Sales reviews the complete draft and submits it.
    login("sales")
    page.goto(f"{detail}bearbeiten/pruefen/")
    page.get_by_role("button", name="Zur Unterzeichnung einreichen").click()
    page.wait_for_url(detail)
    expect(page.get_by_role("status").filter(has_text="eingereicht")).to_be_visible()
    expect(page.locator(".badge")).to_have_text("Zur Unterzeichnung")
    expect(page.get_by_role("link", name="Bearbeiten")).to_have_count(0)

    # Sales signs first.
    page.get_by_role("link", name="Unterzeichnen für Sales").click()
    expect(page.get_by_role("heading", name="Unterzeichnen für Sales")).to_be_visible()
    sign(page, name="Marco Brunner")
    page.wait_for_url(detail)
    expect(page.locator("#signoff-sales")).to_contain_text("Marco Brunner")
    expect(page.locator("#signoff-marketing")).to_contain_text("Unterschrift ausstehend")
    page.get_by_role("button", name="Abmelden").click()

    # Marketing mistypes the password: nothing is signed, the error is announced.
    login("marketing")
    page.goto(detail)
    page.get_by_role("link", name="Unterzeichnen für Marketing").click()
    screenshot("sign-page")
    page.set_viewport_size(PHONE)
    screenshot("sign-page-phone")
    sign(page, name="Anna Keller", password="falsch")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Es wurde nichts unterzeichnet.")
    expect(alert).to_contain_text("Das Passwort ist nicht korrekt.")
    expect(page.get_by_label("Ihr vollständiger Name")).to_have_value("Anna Keller")
    screenshot("wrong-password-phone")
    assert not agreement.signatures.filter(party="marketing").exists()

    # Then signs, which completes the agreement.
    page.set_viewport_size(DESKTOP)
    sign(page, name="Anna Keller")
    page.wait_for_url(detail)
    expect(page.locator(".badge").first).to_have_text("Unterzeichnet")
    panel = page.locator("#signoff")
    expect(panel).to_contain_text("Anna Keller, Leiterin Inbound Marketing")
    expect(panel).to_contain_text("Marco Brunner, Leiter Inbound Sales")
    signature_block = page.locator("#sla-signatures")
    signed_online = rf"Elektronisch unterzeichnet am {SWISS_DATE}, \d\d:\d\d Uhr"
    for party, name in (("Marketing", "Anna Keller"), ("Sales", "Marco Brunner")):
        block = signature_block.locator(".sla-signature").filter(has_text=f"Für „{party}“")
        expect(block).to_contain_text(re.compile(rf"{signed_online}\s*{name}"))
        expect(block.get_by_role("link", name="Nachweis: Prüfprotokoll")).to_have_attribute(
            "href", "#audit"
        )
    expect(page.locator("#audit-chain")).to_contain_text("Prüfprotokoll intakt")
    expect(page.locator("#audit")).to_contain_text("Vollständig unterzeichnet")
    for label in ("Unterzeichnen für Marketing", "Ablehnen", "Zurückziehen"):
        expect(page.get_by_text(label, exact=True)).to_have_count(0)
    screenshot("signed")
    page.set_viewport_size(PHONE)
    screenshot("signed-phone")

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.signatures.valid().count() == 2
