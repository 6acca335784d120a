"""Every page passes axe-core at WCAG 2.2 A and AA, on a desktop and a phone, in German
and English (issue 16).

The pages come from the URLconf: ``PAGES`` says how to reach each URL name (who is signed
in, which agreement in which state, what to do on the page first, e.g. send a form with
errors), ``NOT_PAGES`` why a name is no page of its own (a PDF, a POST-only action, a
fragment shown inside another page, an allauth flow we do not offer). A URL name in
neither fails ``test_every_url_name_is_covered``: a new page needs its visit here.

axe-core comes with the PyPI package axe-playwright-python (its ``axe.min.js``), so a
clean checkout has it after ``make install``. One browser, one context per person and
language, the same demo data for every page: the run takes a few minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from agreements.demo import _create_agreement, signed_demo_agreement
from agreements.enums import Role
from agreements.models import Agreement, Membership
from agreements.team import domain
from agreements.team.tokens import invitation_token
from tests.e2e.conftest import DEMO_PASSWORD, virtual_authenticator
from tests.factories import make_member, make_organisation, submit_agreement

# axe-core's tags for the success criteria of WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"de": "de-CH", "en": "en"}
WIZARD_STEPS = [
    "grunddaten",
    "parteien",
    "rahmen",
    "definitionen",
    "ziele",
    "verantwortung",
    "reporting",
    "funnel",
]
# Steps whose form has a field that refuses typed text (a date or a number): the visit
# "with errors" types "x" into those. The others only take free text and choices.
STEPS_WITH_TYPED_FIELDS = {"grunddaten", "rahmen", "ziele", "reporting", "funnel"}
# A person with a second factor (TOTP and recovery codes; a passkey is enrolled during the
# run), for the pages allauth shows only then: the code asked at log-in, the factors'
# management, reauthentication with a factor.
FACTOR_USER = "faktor"
FACTOR_SECRET = "JBSWY3DPEHPK3PXP"
# A person of a single sign-on organisation, invited without a password of their own: the
# portal's "Passwort festlegen" is theirs. Signed in as the provider would sign them in.
SSO_USER = "sso"


@dataclass
class Demo:
    """The agreements every visit starts from: the demo's, and one submitted for it."""

    draft: int  # the 2027 demo SLA, complete, still a draft
    submitted: int  # 2028, submitted, waiting for both signatures
    signed: int  # the 2026 demo SLA, signed and sealed
    signed_pdf: bytes = b""
    reset_path: str = ""  # a password reset link as the mail would carry it
    organisation: int = 0  # Muster AG, whose team ``management`` administers
    # Invitation links of Muster AG as the mail carries them: to an address without an
    # account, to ``extern`` (an account of another organisation), and a revoked one.
    invitation_new: str = ""
    invitation_existing: str = ""
    invitation_revoked: str = ""
    email_confirmation_path: str = ""  # the link of allauth's "confirm your address" mail
    sso_session: str = ""  # the session key of SSO_USER, signed in


@dataclass(frozen=True)
class Visit:
    """One page as a person reaches it: signed in as ``role`` (None: signed out)."""

    role: str | None
    path: Callable[[Demo], str]
    state: str = ""  # what the report calls this visit, e.g. "with errors"
    prepare: Callable[[Page, Demo], None] | None = None
    # The URL name the visit ends on, when not its own (a form that answers elsewhere).
    lands_on: str | None = None


def _submit(button: str) -> Callable[[Page, Demo], None]:
    """Send the form of ``button`` as it is, for the server's errors (a visit "with errors").

    The browser's own checks (``required``) would stop an empty form before the server
    sees it; the page with the server's messages is what this visit is about.
    """

    def prepare(page: Page, demo: Demo) -> None:
        submit = page.locator(button).first
        submit.evaluate("button => button.form.noValidate = true")
        with page.expect_navigation():
            submit.click()

    return prepare


def _type_x_into_typed_fields(page: Page, demo: Demo) -> None:
    for field_ in page.locator("form input[inputmode=numeric]").all():
        if field_.is_editable():
            field_.fill("x")
    with page.expect_navigation():
        page.locator("button.btn[name=go][value=next]").click()


def _wrong_password(page: Page, demo: Demo) -> None:
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill("marketing")
    form.locator("input[name=password]").fill("falsch")
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def _verify_signed_pdf(page: Page, demo: Demo) -> None:
    page.locator("input[type=file]").set_input_files(
        {"name": "sla.pdf", "mimeType": "application/pdf", "buffer": demo.signed_pdf}
    )
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()


def _bad_csv(page: Page, demo: Demo) -> None:
    page.locator("input[type=file]").set_input_files(
        {"name": "ist.csv", "mimeType": "text/csv", "buffer": b"kein;gueltiges\nCSV;x\n"}
    )
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()


def _actuals_with_errors(page: Page, demo: Demo) -> None:
    form = page.locator("form.actuals-form").first
    form.locator("input[inputmode=numeric]:not([disabled])").first.fill("x")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def _invite_with_errors(page: Page, demo: Demo) -> None:
    form = page.locator("#invite form")
    form.locator("input[name=email]").fill("keine-adresse")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def _open_decline(page: Page, demo: Demo) -> None:
    page.locator("#decline summary").click()
    page.locator("#decline form").wait_for()


def _totp_code() -> str:
    return format_hotp_value(hotp_value(FACTOR_SECRET, int(time.time()) // 30))


def _confirm_access(page: Page, demo: Demo) -> None:
    """Confirm the password where allauth asks for it before a factor changes.

    It asks unless the password was typed in the last few minutes (and after a log-in
    with a second factor, even then): the page it shows instead, "Zugriff bestätigen",
    is a visit of its own (``account_reauthenticate``).
    """
    if "/reauthenticate/" in page.url:
        form = page.locator("form:has(input[name=password])")
        form.locator("input[name=password]").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            form.locator("[type=submit]").first.click()


def _then(*steps: Callable[[Page, Demo], None]) -> Callable[[Page, Demo], None]:
    def prepare(page: Page, demo: Demo) -> None:
        for step in steps:
            step(page, demo)

    return prepare


def _password_of_factor_user(page: Page, demo: Demo) -> None:
    """Log in with the password: allauth then asks for the second factor's code."""
    # Signed out, from the start: an earlier visit may have left a log-in halfway.
    page.context.clear_cookies()
    page.goto(urljoin(page.url, "/accounts/login/"))
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill(FACTOR_USER)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    page.locator("input[name=code]").wait_for()


def _wrong_code(page: Page, demo: Demo) -> None:
    form = page.locator("form:has(input[name=code])")
    form.locator("input[name=code]").fill("000000")
    with page.expect_navigation():
        form.locator("[type=submit]").first.click()


def _wrong_code_after_password(page: Page, demo: Demo) -> None:
    _password_of_factor_user(page, demo)
    _wrong_code(page, demo)


def _enrol_passkey(page: Page, demo: Demo) -> None:
    """Add a passkey as a person does, Chromium's virtual authenticator answering."""
    _confirm_access(page, demo)
    authenticator = getattr(page, "_sla_authenticator", None)
    if authenticator is None:
        authenticator = page._sla_authenticator = virtual_authenticator(page)
    else:
        # A second enrolment (the phone's visit): the portal asks the authenticator to
        # refuse if it holds a passkey of this person already, so it holds none.
        page._sla_cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    page.locator("input[name=name]").fill("Laptop")
    with page.expect_navigation(url=re.compile(r"/accounts/2fa/(webauthn/)?$")):
        page.locator("#mfa_webauthn_add").click()


def _follow(link: str) -> Callable[[Page, Demo], None]:
    """Reach a page the way a person does: by the link ``link`` on the visited one."""

    def prepare(page: Page, demo: Demo) -> None:
        with page.expect_navigation():
            page.locator(link).first.click()

    return prepare


def _wizard_visits() -> list[Visit]:
    visits = []
    for step in WIZARD_STEPS:
        path = (lambda s: lambda d: f"/agreements/{d.draft}/bearbeiten/{s}/")(step)
        visits.append(Visit("marketing", path, step))
        if step in STEPS_WITH_TYPED_FIELDS:
            visits.append(
                Visit("marketing", path, f"{step}, with errors", _type_x_into_typed_fields)
            )
    visits.append(Visit("sales", lambda d: f"/agreements/{d.draft}/bearbeiten/pruefen/", "review"))
    return visits


PAGES: dict[str, list[Visit]] = {
    # --- The portal -------------------------------------------------------------------
    "dashboard": [Visit("marketing", lambda d: "/"), Visit("management", lambda d: "/")],
    "agreement_create": [
        Visit("marketing", lambda d: "/agreements/new/"),
        Visit("marketing", lambda d: "/agreements/new/", "with errors", _type_x_into_typed_fields),
    ],
    "agreement_step": _wizard_visits(),
    "agreement_detail": [
        Visit("marketing", lambda d: f"/agreements/{d.draft}/", "draft"),
        Visit("sales", lambda d: f"/agreements/{d.submitted}/", "submitted"),
        Visit("management", lambda d: f"/agreements/{d.signed}/", "signed"),
    ],
    "agreement_sign": [
        Visit("sales", lambda d: f"/agreements/{d.submitted}/unterzeichnen/"),
        Visit(
            "sales",
            lambda d: f"/agreements/{d.submitted}/unterzeichnen/",
            "with errors",
            _submit("#sign-form button[type=submit]"),
        ),
        Visit(
            "sales",
            lambda d: f"/agreements/{d.submitted}/unterzeichnen/",
            "decline opened",
            _open_decline,
        ),
    ],
    "agreement_history": [
        Visit("marketing", lambda d: f"/agreements/{d.draft}/verlauf/", "draft"),
        Visit("management", lambda d: f"/agreements/{d.signed}/verlauf/", "signed"),
    ],
    "signed_agreements": [Visit("management", lambda d: "/unterzeichnet/")],
    "pdf_verify": [
        Visit("management", lambda d: "/pruefen/"),
        Visit("management", lambda d: "/pruefen/", "with errors", _submit("form[enctype] button")),
        Visit("management", lambda d: "/pruefen/", "a sealed PDF checked", _verify_signed_pdf),
    ],
    "goals_overview": [Visit("management", lambda d: "/ziele/")],
    "agreement_goals": [Visit("management", lambda d: f"/agreements/{d.signed}/ziele/")],
    "agreement_actuals": [
        Visit("marketing", lambda d: f"/agreements/{d.signed}/ist-werte/"),
        Visit(
            "marketing",
            lambda d: f"/agreements/{d.signed}/ist-werte/",
            "with errors",
            _actuals_with_errors,
        ),
    ],
    "agreement_actuals_import": [
        Visit("marketing", lambda d: f"/agreements/{d.signed}/ist-werte/import/"),
        Visit(
            "marketing", lambda d: f"/agreements/{d.signed}/ist-werte/import/", "bad CSV", _bad_csv
        ),
    ],
    # --- Teams: the organisation's administrators, the invitation's link ---------------
    "team": [
        Visit("management", lambda d: f"/organisationen/{d.organisation}/team/"),
        Visit(
            "management",
            lambda d: f"/organisationen/{d.organisation}/team/",
            "invitation with errors",
            _invite_with_errors,
            lands_on="team_invite",
        ),
    ],
    "organisation_create": [
        Visit("admin", lambda d: "/organisationen/neu/"),
        Visit(
            "admin", lambda d: "/organisationen/neu/", "with errors", _submit("main form button")
        ),
    ],
    "invitation_accept": [
        Visit(None, lambda d: d.invitation_new, "new account"),
        Visit(
            None,
            lambda d: d.invitation_new,
            "new account, with errors",
            _submit("main form button"),
        ),
        Visit(None, lambda d: d.invitation_existing, "account exists, signed out"),
        Visit("extern", lambda d: d.invitation_existing, "join with one click"),
        Visit("marketing", lambda d: d.invitation_existing, "someone else's (403)"),
        Visit(None, lambda d: d.invitation_revoked, "revoked (410)"),
        Visit(None, lambda d: "/einladung/1-falsch/", "invalid link (404)"),
    ],
    # --- Signing in and the account (django-allauth, in our templates) ----------------
    "account_login": [
        Visit(None, lambda d: "/accounts/login/"),
        Visit(None, lambda d: "/accounts/login/", "wrong password", _wrong_password),
    ],
    "account_logout": [Visit("marketing", lambda d: "/accounts/logout/")],
    "account_inactive": [Visit(None, lambda d: "/accounts/inactive/")],
    "account_signup": [Visit(None, lambda d: "/accounts/signup/", "closed")],
    "account_reset_password": [
        Visit(None, lambda d: "/accounts/password/reset/"),
        Visit(
            None,
            lambda d: "/accounts/password/reset/",
            "with errors",
            _submit("main form button[type=submit]"),
        ),
    ],
    "account_reset_password_done": [Visit(None, lambda d: "/accounts/password/reset/done/")],
    "account_reset_password_from_key": [Visit(None, lambda d: d.reset_path, "from the mail")],
    "account_reset_password_from_key_done": [
        Visit(None, lambda d: "/accounts/password/reset/key/done/")
    ],
    "account_change_password": [
        Visit("marketing", lambda d: "/accounts/password/change/"),
        Visit(
            "marketing",
            lambda d: "/accounts/password/change/",
            "with errors",
            _submit("main form button[type=submit]"),
        ),
    ],
    "account_set_password": [
        Visit(SSO_USER, lambda d: "/accounts/password/set/"),
        Visit(
            SSO_USER,
            lambda d: "/accounts/password/set/",
            "with errors",
            _submit("main form button[type=submit]"),
        ),
    ],
    "account_email": [Visit("marketing", lambda d: "/accounts/email/")],
    "account_email_verification_sent": [Visit("marketing", lambda d: "/accounts/confirm-email/")],
    "account_reauthenticate": [Visit("marketing", lambda d: "/accounts/reauthenticate/")],
    "socialaccount_connections": [Visit("marketing", lambda d: "/accounts/3rdparty/")],
    "socialaccount_login_cancelled": [Visit(None, lambda d: "/accounts/3rdparty/login/cancelled/")],
    "socialaccount_login_error": [Visit(None, lambda d: "/accounts/3rdparty/login/error/")],
    "account_confirm_email": [
        Visit("marketing", lambda d: d.email_confirmation_path, "from the mail")
    ],
    # --- Second factors (allauth.mfa, in our templates) ---------------------------------
    "mfa_authenticate": [
        Visit(None, lambda d: "/accounts/login/", "code asked", _password_of_factor_user),
        Visit(None, lambda d: "/accounts/login/", "wrong code", _wrong_code_after_password),
    ],
    "mfa_index": [
        Visit("marketing", lambda d: "/accounts/2fa/", "no factor"),
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/", "TOTP and recovery codes"),
    ],
    "mfa_reauthenticate": [Visit(FACTOR_USER, lambda d: "/accounts/2fa/reauthenticate/")],
    "mfa_activate_totp": [
        Visit("marketing", lambda d: "/accounts/2fa/totp/activate/", "", _confirm_access),
        Visit(
            "marketing",
            lambda d: "/accounts/2fa/totp/activate/",
            "wrong code",
            _then(_confirm_access, _wrong_code),
        ),
    ],
    "mfa_deactivate_totp": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/totp/deactivate/", "", _confirm_access)
    ],
    "mfa_view_recovery_codes": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/recovery-codes/", "", _confirm_access)
    ],
    "mfa_generate_recovery_codes": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/recovery-codes/generate/", "", _confirm_access)
    ],
    "mfa_list_webauthn": [Visit("marketing", lambda d: "/accounts/2fa/webauthn/", "none")],
    # The passkey enrolled here is what the pages after it need (visits run in this order).
    "mfa_add_webauthn": [
        Visit("marketing", lambda d: "/accounts/2fa/webauthn/add/", "", _confirm_access),
        Visit(
            FACTOR_USER,
            lambda d: "/accounts/2fa/webauthn/add/",
            "added, the security page",
            _enrol_passkey,
            lands_on="mfa_index",
        ),
    ],
    "mfa_edit_webauthn": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/webauthn/", "", _follow("a[href$='/edit/']"))
    ],
    "mfa_remove_webauthn": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/webauthn/", "", _follow("a[href$='/remove/']"))
    ],
    "mfa_reauthenticate_webauthn": [
        Visit(FACTOR_USER, lambda d: "/accounts/2fa/webauthn/reauthenticate/")
    ],
}

# Pages outside the URLconf that people still see.
ERROR_PAGES = [Visit("marketing", lambda d: "/agreements/999999999/", "404 page")]

NOT_PAGES: dict[str, str] = {
    "agreement_pdf": "a PDF (the sealed SLA or the draft preview): tests/test_pdf_accessible.py",
    "agreement_goals_pdf": "a PDF (the goals report): tests/test_pdf_accessible.py",
    "agreement_framework_document": "a download of the uploaded framework document",
    "agreement_actuals_csv": "a CSV download",
    "agreement_pdf_state": "a fragment that pdf-state.js loads into the agreement page",
    "agreement_step_preview": "the wizard's live preview, a fragment inside the wizard page",
    "agreement_submit": "POST only; redirects to the agreement page",
    "agreement_decline": "POST only; its form is on the sign page (visited opened)",
    "agreement_reopen": "POST only; redirects to the agreement page",
    "agreement_renew": "POST only; redirects to the new draft's wizard",
    "agreement_comment_add": "POST only; the threads show on the agreement page (visited)",
    "agreement_comment_edit": "POST only; the threads show on the agreement page (visited)",
    "agreement_thread_resolve": "POST only; the threads show on the agreement page (visited)",
    "set_language": "POST only; redirects back to the page it was sent from",
    "team_invite": "POST only; with errors it shows the Team page (visited so)",
    "team_member_change": "POST only; redirects to the Team page (visited)",
    "team_member_remove": "POST only; redirects to the Team page (visited)",
    "team_invitation_resend": "POST only; redirects to the Team page (visited)",
    "team_invitation_revoke": "POST only; redirects to the Team page (visited)",
    "account_confirm_login_code": "log-in by mailed code is off (settings)",
    "account_request_reauthentication_code": "log-in by mailed code is off (settings)",
    "account_confirm_reauthentication_code": "log-in by mailed code is off (settings)",
    "socialaccount_signup": "only during a single sign-on whose account is missing",
    "openid_connect_login": "hands over to the OpenID provider (tests/test_sso.py)",
    "openid_connect_callback": "the OpenID provider's return address, no page",
    "mfa_download_recovery_codes": "a text file download",
    "mfa_login_webauthn": "the passkey log-in's JSON endpoint",
}
# Django's admin: staff only, Django's own templates (the issue leaves it out).
EXCLUDED_NAMESPACES = {"admin"}


def url_names() -> set[str]:
    """Every named URL of the project, namespaced ones as ``namespace:name``."""

    def walk(patterns, namespace: str | None) -> set[str]:
        names = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if inner not in EXCLUDED_NAMESPACES:
                    names |= walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        return names

    return walk(get_resolver().url_patterns, None)


def test_every_url_name_is_covered():
    names = url_names()
    unmapped = names - PAGES.keys() - NOT_PAGES.keys()
    assert not unmapped, (
        f"No accessibility check reaches {sorted(unmapped)}: add a Visit to PAGES in "
        f"{Path(__file__).name} (or say in NOT_PAGES why it is no page)"
    )
    assert not (PAGES.keys() | NOT_PAGES.keys()) - names, "stale names in PAGES/NOT_PAGES"


def _url_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


@dataclass
class Finding:
    where: str
    violations: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [self.where]
        for violation in self.violations:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            lines.append(f"  {violation['id']} ({violation['impact']}): {targets}")
        return "\n".join(lines)


def make_demo(outside_browser_loop) -> Demo:
    outside_browser_loop(call_command, "load_demo")  # it seals the signed 2026 demo SLA
    draft = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    users = {m.role: m.user for m in Membership.objects.filter(organisation=draft.organisation)}
    submitted = _create_agreement(draft.organisation, users, year=2028)
    submit_agreement(submitted, users[Role.SALES])
    signed = signed_demo_agreement()
    with signed.signed_pdf.open("rb") as file:
        signed_pdf = file.read()
    invitations = outside_browser_loop(
        _make_invitations, draft.organisation, users[Role.MANAGEMENT]
    )
    outside_browser_loop(_make_factor_user)
    sso_session = outside_browser_loop(_signed_in_sso_user)
    return Demo(
        draft=draft.pk,
        submitted=submitted.pk,
        signed=signed.pk,
        signed_pdf=signed_pdf,
        reset_path=_password_reset_path(users[Role.SALES]),
        organisation=draft.organisation.pk,
        sso_session=sso_session,
        email_confirmation_path=outside_browser_loop(
            _email_confirmation_path, users[Role.MARKETING]
        ),
        **invitations,
    )


def _make_invitations(organisation, administrator) -> dict[str, str]:
    """Muster AG's invitations as its administrator sends them; their links' paths."""
    make_member(
        make_organisation("Andere AG"),
        Role.SALES,
        "extern",
        password=DEMO_PASSWORD,
        email="extern@muster.example",
    )
    links = {}
    for key, email in [
        ("invitation_new", "lea@muster.example"),
        ("invitation_existing", "extern@muster.example"),
        ("invitation_revoked", "tom@muster.example"),
    ]:
        invitation = domain.invitation_create(
            organisation=organisation, email=email, role=Role.MARKETING, actor=administrator
        )
        links[key] = f"/einladung/{invitation_token(invitation)}/"
    domain.invitation_revoke(invitation=invitation, actor=administrator)
    return links


def _make_factor_user() -> None:
    """``faktor`` of Faktor AG, with TOTP and recovery codes as allauth activates them."""
    user = make_member(
        make_organisation("Faktor AG"),
        Role.MARKETING,
        FACTOR_USER,
        password=DEMO_PASSWORD,
        email="faktor@faktor.example",
    )
    TOTP.activate(user, FACTOR_SECRET)
    RecoveryCodes.activate(user)


def _signed_in_sso_user() -> str:
    """``sso`` of SSO AG, with no password, signed in: the key of the session."""
    user = make_member(make_organisation("SSO AG"), Role.SALES, SSO_USER, password=None)
    client = Client()
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _email_confirmation_path(user) -> str:
    """The link allauth mails for a newly added address of ``user``, not yet confirmed."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    address = EmailAddress.objects.create(user=user, email="anna.privat@muster.example")
    return f"/accounts/confirm-email/{EmailConfirmationHMAC(address).key}/"


def _password_reset_path(user) -> str:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    return f"/accounts/password/reset/key/{key}/"


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    if username == FACTOR_USER:
        form = page.locator("form:has(input[name=code])")
        form.locator("input[name=code]").fill(_totp_code())
        with page.expect_navigation(url=f"{base}/"):
            form.locator("[type=submit]").first.click()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_at_wcag_22_aa(
    browser: Browser, live_server, transactional_db, outside_browser_loop, language
):
    demo = make_demo(outside_browser_loop)
    axe = Axe()
    visits = [(name, visit) for name, page_visits in PAGES.items() for visit in page_visits]
    visits += [("error", visit) for visit in ERROR_PAGES]
    findings = []
    checked = 0
    for role in dict.fromkeys(visit.role for _, visit in visits):
        # One context per person: signed in once, the session kept for all their pages.
        context = browser.new_context(locale=LANGUAGES[language], viewport=VIEWPORTS["desktop"])
        context.set_default_timeout(30_000)
        page = context.new_page()
        if role == SSO_USER:
            session = {"name": settings.SESSION_COOKIE_NAME, "value": demo.sso_session}
            context.add_cookies([{**session, "url": live_server.url}])
        elif role:
            _sign_in(page, live_server.url, role)
        for name, visit in visits:
            if visit.role != role:
                continue
            for width, viewport in VIEWPORTS.items():
                where = f"{name} {visit.state} ({role or 'signed out'}, {width})"
                page.set_viewport_size(viewport)
                try:
                    page.goto(f"{live_server.url}{visit.path(demo)}")
                    if visit.prepare:
                        visit.prepare(page, demo)
                except PlaywrightError as error:
                    # Every page is checked in one run; a visit that broke is reported too.
                    findings.append(Finding(f"{where}: not reached: {error.message[:300]}"))
                    continue
                landed = _url_name(page.url)
                if name != "error" and landed != (visit.lands_on or name):
                    # A visit that ends elsewhere (a redirect to the log-in, say) checks
                    # another page than the one it claims to cover.
                    findings.append(Finding(f"{where}: landed on {landed}: {page.url}"))
                assert page.locator("html").get_attribute("lang").startswith(language), page.url
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
                checked += 1
                if results.response["violations"]:
                    findings.append(Finding(f"{where}: {page.url}", results.response["violations"]))
        context.close()

    assert not findings, f"{len(findings)} of {checked} pages fail axe:\n" + "\n".join(
        map(str, findings)
    )
