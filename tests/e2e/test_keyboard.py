"""With the keyboard alone: a wizard step, the signing and the download (issue 16).

No mouse click anywhere: Tab moves the focus (always visibly), Enter and Space act. The
first Tab of a page reaches the skip link, which jumps past the navigation; every control
the test needs is reached by Tab within a bounded number of presses, so a focus trap fails.
"""

import re

from django.core.management import call_command
from playwright.sync_api import Page, expect

from agreements.demo import signed_demo_agreement
from agreements.models import Agreement, Signature
from tests.e2e.conftest import DEMO_PASSWORD
from tests.factories import submit_agreement

# The focused element shows it: an outline or Bootstrap's focus ring (a box shadow).
FOCUS_SHOWN = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {shown: outline || style.boxShadow !== "none", html: element.outerHTML.slice(0, 160)};
}"""


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, checking that every stop shows it."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_SHOWN)
        if focused is None:
            continue  # past the last control: the browser's own stop
        assert focused["shown"], f"no visible focus on {focused['html']}"
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab (a focus trap?)")


def skip_to_content(page: Page) -> None:
    """The first Tab reaches the skip link; Enter on it moves past the navigation."""
    page.keyboard.press("Tab")
    skip = page.locator("a[href='#main']")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def sign_in_by_keyboard(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    tab_to(page, "input[name=login]")
    page.keyboard.type(username)
    tab_to(page, "input[name=password]")
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def test_a_wizard_step_the_signing_and_the_download_by_keyboard(
    page, live_server, outside_browser_loop
):
    outside_browser_loop(call_command, "load_demo")  # it seals the signed 2026 demo SLA
    draft = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    base = live_server.url

    # Marketing changes the geographic unit on the first step and goes on with "Weiter".
    sign_in_by_keyboard(page, base, "marketing")
    page.goto(f"{base}/agreements/{draft.pk}/bearbeiten/grunddaten/")
    skip_to_content(page)
    tab_to(page, "input[name=geographic_unit]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Westschweiz")
    tab_to(page, "button.btn[name=go][value=next]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # (The skip link's #main stays on the address across the redirect.)
    expect(page).to_have_url(re.compile(rf"{base}/agreements/{draft.pk}/bearbeiten/parteien/"))
    draft.refresh_from_db()
    assert draft.geographic_unit == "Westschweiz"

    # Marketing signs the submitted draft: password, name, consent, Enter.
    submit_agreement(draft)
    page.goto(f"{base}/agreements/{draft.pk}/unterzeichnen/")
    skip_to_content(page)
    tab_to(page, "#sign-form input[name=password]")
    page.keyboard.type(DEMO_PASSWORD)
    tab_to(page, "#sign-form input[name=typed_name]")
    page.keyboard.type("Anna Keller")
    tab_to(page, "#sign-form input[name=consent]")
    page.keyboard.press("Space")
    tab_to(page, "#sign-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{base}/agreements/{draft.pk}/(#main)?$"))
    assert Signature.objects.filter(agreement=draft, typed_name="Anna Keller").exists()

    # The sealed PDF of the signed 2026 SLA, downloaded from its page.
    signed = signed_demo_agreement()
    page.goto(f"{base}/agreements/{signed.pk}/")
    skip_to_content(page)
    tab_to(page, "#agreement-pdf")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    with open(download.value.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"
