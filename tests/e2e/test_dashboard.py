"""The dashboard on a desk and on a phone: one table, which a phone shows as cards."""

from django.core.management import call_command
from playwright.sync_api import expect


def test_the_dashboard_is_a_table_on_a_desk_and_cards_on_a_phone(
    page, live_server, login, screenshot, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")
    login("marketing")
    rows = page.locator(".agreement-list tbody tr")
    expect(rows).to_have_count(2)
    header = page.locator(".agreement-list thead")
    expect(header).to_be_visible()
    # On a desk the labels live in the column headers only.
    expect(rows.first.locator(".cell-label").first).to_be_hidden()
    screenshot("desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    # On a phone each agreement is a card with its labels; the headers are kept for
    # screen readers (clipped, not removed) and the page does not scroll sideways.
    expect(rows.first.locator(".cell-label", has_text="Zeitraum")).to_be_visible()
    expect(rows.first.locator(".cell-label", has_text="Parteien")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first, second = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
    assert first and second and first["width"] <= 390
    assert second["y"] >= first["y"] + first["height"]  # one card below the other
    expect(page.get_by_role("columnheader", name="Zeitraum")).to_have_count(1)
    screenshot("phone")
