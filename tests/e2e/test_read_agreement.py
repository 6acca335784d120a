"""A representative signs in and reads the demo agreement in the browser."""

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.models import Agreement

HEADING = "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG"


def test_marketing_reads_the_demo_agreement(
    page, live_server, login, screenshot, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")
    # The 2027 draft; the demo's signed 2026 SLA has last year's smaller figures.
    agreement = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    detail = f"/agreements/{agreement.pk}/"

    login("marketing")
    page.locator(f"a[href='{detail}']").first.click()

    page.wait_for_url(f"{live_server.url}{detail}")
    expect(page.get_by_role("heading", name=HEADING)).to_be_visible()
    expect(page.locator("body")).to_contain_text("34’000")
    screenshot("agreement")
