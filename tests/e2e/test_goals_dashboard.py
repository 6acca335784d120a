"""Management opens the goals dashboard of the signed demo SLA, on a desk and on a phone."""

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.demo import signed_demo_agreement


def test_management_sees_status_lights_and_chart(
    page, live_server, login, screenshot, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")  # signs the 2026 SLA, adds Q1–Q3 figures
    agreement = signed_demo_agreement()
    goals = f"/agreements/{agreement.pk}/ziele/"

    login("management")
    page.get_by_role("link", name="Zielerreichung").first.click()
    page.locator(f"a[href='{goals}']").click()
    page.wait_for_url(f"{live_server.url}{goals}")

    # Q1 58/55 green, Q2 49/55 yellow, Q3 41/55 red; cumulative 148/165 = 89,7 %.
    expect(page.locator("#goal-sql")).to_have_text("89,7\u00a0%")
    lights = page.locator("#goal-periods [data-light]")
    expect(lights.first).to_have_attribute("data-light", "green")
    expect(page.locator("#goal-periods [data-light=yellow]").first).to_be_visible()
    expect(page.locator("#goal-periods [data-light=red]").first).to_be_visible()
    chart = page.locator("svg.goal-chart-sql")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.goal-bar")).to_have_count(3)
    # Management reads: no entry button, only the figures.
    expect(page.locator("#goals-actuals")).to_have_text("Ist-Werte")
    screenshot("desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] <= 390
    # Nothing wider than the phone: the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone")
