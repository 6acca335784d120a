"""A representative signs in and reads the demo agreement in the browser."""

import re

from django.core.management import call_command
from playwright.sync_api import expect

HEADING = "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG"
AGREEMENT_PATH = re.compile(r"^/agreements/\d+/$")


def test_marketing_reads_the_demo_agreement(page, live_server, login, screenshot):
    call_command("load_demo")

    login("marketing")
    hrefs = page.locator("a[href^='/agreements/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    agreement_hrefs = [href for href in hrefs if AGREEMENT_PATH.match(href)]
    assert agreement_hrefs, f"no agreement linked on the dashboard, only {hrefs}"
    page.locator(f"a[href='{agreement_hrefs[0]}']").first.click()

    page.wait_for_url(re.compile(r"/agreements/\d+/$"))
    expect(page.get_by_role("heading", name=HEADING)).to_be_visible()
    expect(page.locator("body")).to_contain_text("34’000")
    screenshot("agreement")
