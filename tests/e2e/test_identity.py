"""Identity in the browser: single sign-on against a real OpenID provider, a passkey
enrolled and used to sign (Chromium's virtual authenticator), a second-factor
organisation that refuses the password alone.

The portal runs on pytest-django's live server at http://localhost:<port>: a secure
context for WebAuthn, whose relying party ID is then "localhost" (an IP address cannot
be one). The provider runs at 127.0.0.1 in its own process (tests/oidc_provider).
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from agreements.enums import AuditAction, Party, Role
from agreements.models import Agreement, AuditEvent, Organisation
from tests.e2e.conftest import virtual_authenticator
from tests.factories import make_member, make_organisation, submit_agreement
from tests.sso import PROVIDER_NAME, USERS


@pytest.fixture
def demo(outside_browser_loop):
    from django.core.management import call_command

    outside_browser_loop(call_command, "load_demo")
    agreement = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    return submit_agreement(agreement)


def test_log_in_through_the_company_provider(page, live_server, sso, screenshot):
    anna = make_member(
        make_organisation("Muster AG"),
        Role.MARKETING,
        "anna",
        email=USERS["anna.idp"]["email"],
        first_name="Anna",
        last_name="Keller",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    screenshot("login-with-sso")
    page.get_by_role("button", name=f"Mit {PROVIDER_NAME} anmelden").click()
    page.get_by_label("Username").fill("anna.idp")
    page.get_by_label("Password").fill(USERS["anna.idp"]["password"])
    page.get_by_role("button", name="Sign in at the provider").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator(".navbar")).to_contain_text("Anna Keller")
    assert anna.socialaccount_set.get().provider == "firma-sso"


def test_enrol_a_passkey_and_sign_with_it(page, live_server, login, demo, screenshot):
    Organisation.objects.filter(name="Muster AG").update(require_signing_second_factor=True)
    virtual_authenticator(page)
    login("marketing")

    # Enrol: the security page, then "add passkey"; Chromium's authenticator answers.
    page.get_by_role("link", name="Sicherheit").click()
    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    if page.get_by_role("heading", name="Zugriff bestätigen").count():
        # Changing a factor asks to confirm the password, unless it was just typed.
        page.get_by_label("Passwort").fill("demo")
        page.get_by_role("button", name="Bestätigen").click()
    page.get_by_label("Name").fill("Laptop")
    screenshot("add-passkey")
    page.get_by_role("button", name="Hinzufügen").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/"))
    screenshot("passkey-added")
    marketing = get_user_model().objects.get(username="marketing")
    assert marketing.authenticator_set.filter(type="webauthn").count() == 1

    # Sign: no password field, the passkey button instead.
    page.goto(f"{live_server.url}/agreements/{demo.pk}/unterzeichnen/")
    expect(page.get_by_label("Ihr Passwort")).to_have_count(0)
    page.get_by_label("Ihr vollständiger Name").fill("Anna Keller")
    page.get_by_label(re.compile("Ich unterzeichne diese Vereinbarung")).check()
    screenshot("sign-with-passkey")
    page.get_by_role("button", name="Mit Passkey unterzeichnen").click()
    page.wait_for_url(f"{live_server.url}/agreements/{demo.pk}/")

    expect(page.locator("#signoff-marketing")).to_contain_text("Anna Keller")
    signature = demo.signatures.get(party=Party.MARKETING)
    event = AuditEvent.objects.get(
        agreement=demo, action=AuditAction.SIGNED, details__signature_id=signature.pk
    )
    assert event.details["method"] == "webauthn"


def test_a_second_factor_organisation_refuses_the_password_alone(
    page, live_server, login, demo, screenshot
):
    Organisation.objects.filter(name="Muster AG").update(require_signing_second_factor=True)
    login("sales")

    page.goto(f"{live_server.url}/agreements/{demo.pk}/unterzeichnen/")

    notice = page.locator("#sign-needs-factor")
    expect(notice).to_contain_text("verlangt zum Unterzeichnen einen zweiten Faktor")
    expect(page.get_by_label("Ihr Passwort")).to_have_count(0)
    expect(page.get_by_role("button", name="Verbindlich unterzeichnen")).to_have_count(0)
    screenshot("needs-second-factor")
    # A form made by hand with the password alone is refused too.
    response = page.request.post(
        f"{live_server.url}/agreements/{demo.pk}/unterzeichnen/",
        form={
            "password": "demo",
            "typed_name": "Marco Brunner",
            "consent": "on",
            "content_sha256": demo.content_sha256,
        },
        headers={"Referer": page.url, "X-CSRFToken": _csrf(page)},
    )
    assert response.status == 422
    assert not demo.signatures.exists()


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
