"""Fixtures for the browser tests: Playwright (sync API) drives Debian's Chromium.

Every test in this folder is marked ``e2e`` and runs against pytest-django's
``live_server`` (which gives it ``transactional_db``: the server thread must see the rows
the test writes). Without ``/usr/bin/chromium`` these tests skip on a developer's machine,
but fail in CI, where a silently skipped browser test would hide a broken page.

The browser lives for this package only, not the whole session: while Playwright's sync
API is started it keeps an asyncio event loop running in the main thread, and every later
``asyncio.run()`` (pyHanko's sealing, for one) would fail with "cannot be called from a
running event loop". For the same reason a test here must not seal a PDF in its own
thread (``load_demo`` does: it signs the 2026 demo SLA); ``outside_browser_loop`` runs
such a call in a thread of its own. The live server's thread is not affected.
"""

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "demo"  # of the users that `manage.py load_demo` creates, never in production
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test below this folder ``e2e``, so ``-m "not e2e"`` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (Debian package chromium; `make browsers`)"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # With Playwright's loop running in the main thread, Django refuses ORM calls from
        # it (SynchronousOnlyOperation): the test body's (call_command("load_demo")) and
        # the database flush after each test. They are plain synchronous calls that never
        # touch the loop, so allowing them is safe; only while the browser is up.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    """A fresh browser context per test: no cookies or session carried over."""
    context = browser.new_context(locale="de-CH", viewport={"width": 1280, "height": 900})
    # Generous: the waits are for the server, and with the test files in parallel
    # processes on a shared machine a request that renders and seals the signed PDF (tasks
    # run at once here) took more than 15 s. A passing wait costs no more for it.
    context.set_default_timeout(45_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def outside_browser_loop() -> Callable[..., Any]:
    """Return ``run(function, *args, **kwargs)``: call it in a worker thread, return its result.

    For calls that use asyncio themselves, e.g. ``run(call_command, "load_demo")``.
    """

    def _run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            try:
                return function(*args, **kwargs)
            finally:
                # The thread's own connections: PostgreSQL's test teardown waits for them.
                connections.close_all()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(call).result()

    return _run


@pytest.fixture
def login(page: Page, live_server) -> Callable[..., Page]:
    """Return ``login(username, password="demo")``: sign in and land on the dashboard.

    ``on`` signs in on another page (a second browser context: a second person).
    """

    def _login(username: str, password: str = DEMO_PASSWORD, *, on: Page | None = None) -> Page:
        target = on or page
        target.goto(f"{live_server.url}/accounts/login/")
        form = target.locator("form:has(input[name=password])")
        form.locator("input[name=login]").fill(username)
        form.locator("input[name=password]").fill(password)
        form.locator("[type=submit]").click()
        target.wait_for_url(f"{live_server.url}/")
        return target

    return _login


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Return ``screenshot(name)``: save the full page to test-results/<test>-<name>.png."""

    def _screenshot(name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return _screenshot


def virtual_authenticator(page: Page) -> str:
    """Chromium's virtual passkey (DevTools protocol): present, user verified, resident."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page._sla_cdp = cdp  # keep the session (and so the authenticator) alive; one per page
    return added["authenticatorId"]
