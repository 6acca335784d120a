"""Log-in, sessions and the browser's protections (issue 6, item 4).

Failed log-ins are throttled per account and per address (django-axes), sessions end
after a working day, when the browser closes and when the password changes elsewhere, no
view skips CSRF, and every page is served with a Content-Security-Policy that allows no
inline script, which the pages honour: they carry none.
"""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from agreements import wizard
from agreements.demo import signed_demo_agreement
from agreements.enums import Role
from agreements.models import Agreement
from tests.factories import make_member, make_organisation, make_user, submit_agreement

LOCKED = "Zu viele fehlgeschlagene Anmeldeversuche"


def log_in(client, username, password, ip="192.0.2.10", **headers):
    return client.post(
        reverse("account_login"),
        {"login": username, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )


def is_logged_in(client) -> bool:
    return client.get(reverse("dashboard")).status_code == 200


@pytest.fixture
def throttle(settings):
    """django-axes on (conftest switches it off for client.login), with a small limit."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return settings.AXES_FAILURE_LIMIT


# Log-in throttling ----------------------------------------------------------------------


def test_an_account_is_locked_after_repeated_failures_from_any_address(db, client, throttle):
    make_user("anna", password="richtig-und-lang-2026")
    for attempt in range(throttle - 1):
        assert log_in(client, "anna", "falsch", ip=f"198.51.100.{attempt}").status_code == 200
    assert log_in(client, "anna", "falsch", ip="198.51.100.50").status_code == 429

    response = log_in(client, "anna", "richtig-und-lang-2026", ip="203.0.113.99")

    assert response.status_code == 429
    assert LOCKED in response.text
    assert "15 Minuten" in response.text
    assert not is_logged_in(client)


def test_an_address_is_locked_after_failures_for_many_accounts(db, client, throttle):
    make_user("beat", password="richtig-und-lang-2026")
    for attempt in range(throttle):
        log_in(client, f"name-{attempt}", "sommer2026", ip="198.51.100.7")

    refused = log_in(client, "beat", "richtig-und-lang-2026", ip="198.51.100.7")
    other_address = log_in(Client(), "beat", "richtig-und-lang-2026", ip="198.51.100.8")

    assert refused.status_code == 429
    assert LOCKED in refused.text
    assert other_address.status_code == 302  # the account itself is not locked


def test_a_successful_log_in_clears_the_failures(db, client, throttle):
    make_user("carla", password="richtig-und-lang-2026")
    for _ in range(throttle - 1):
        log_in(client, "carla", "falsch")
    assert log_in(client, "carla", "richtig-und-lang-2026").status_code == 302
    client.post(reverse("account_logout"))

    for _ in range(throttle - 1):
        log_in(client, "carla", "falsch")
    response = log_in(client, "carla", "richtig-und-lang-2026")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_log_in_to_ones_own_account_does_not_clear_another_names_failures(db, client, throttle):
    # The attack of issue 12: guess another's password just under the limit, log in to
    # one's own account to clear the address's count, and repeat.
    make_user("sales", password="geheim-und-lang-2026")
    make_user("eve", password="eves-eigenes-passwort")
    guesses = []
    for _round in range(3):
        for _ in range(throttle - 1):
            guesses.append(log_in(client, "sales", "geraten").status_code)
        log_in(client, "eve", "eves-eigenes-passwort")
        client.post(reverse("account_logout"))

    assert 429 in guesses  # locked out in the second round, not after 3 rounds of guessing
    assert guesses.index(429) == throttle - 1


def test_the_lockout_ends_after_the_cool_off(db, client, throttle, settings):
    make_user("dario", password="richtig-und-lang-2026")
    for _ in range(throttle):
        log_in(client, "dario", "falsch")
    assert log_in(client, "dario", "richtig-und-lang-2026").status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert log_in(client, "dario", "richtig-und-lang-2026").status_code == 302


def test_behind_the_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(
    db, client, throttle, settings
):
    settings.SLA_TRUSTED_PROXIES = 1
    make_user("eva", password="richtig-und-lang-2026")
    for attempt in range(throttle):
        log_in(
            client,
            f"name-{attempt}",
            "falsch",
            ip="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}, 198.51.100.20",
        )

    forged = log_in(
        client,
        "eva",
        "richtig-und-lang-2026",
        ip="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.20",
    )
    colleague = log_in(
        Client(), "eva", "richtig-und-lang-2026", ip="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.21",
    )  # fmt: skip

    assert forged.status_code == 429
    assert colleague.status_code == 302  # the proxy's own address is not what is locked


def test_no_password_is_kept_with_the_failed_attempts(db, client, throttle):
    log_in(client, "frida", "mein-geheimes-passwort")

    attempt = AccessAttempt.objects.get(username="frida")

    assert "mein-geheimes-passwort" not in attempt.post_data


# Sessions ------------------------------------------------------------------------------


def test_an_expired_session_is_sent_to_the_log_in(db, client):
    client.force_login(make_user())
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_session_cookie_ends_with_the_browser_and_the_session_after_a_day(db, client, settings):
    make_user("gina", password="richtig-und-lang-2026")

    response = log_in(client, "gina", "richtig-und-lang-2026")

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""  # no persistent cookie: closing the browser ends it
    assert cookie["httponly"]
    session = Session.objects.get()
    assert session.expire_date <= timezone.now() + timedelta(hours=8)


def test_changing_the_password_ends_the_other_sessions(db, settings):
    user = make_user("hans", password="altes-passwort-2026")
    laptop, phone = Client(), Client()
    assert log_in(laptop, "hans", "altes-passwort-2026").status_code == 302
    assert log_in(phone, "hans", "altes-passwort-2026").status_code == 302

    response = laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": "altes-passwort-2026",
            "password1": "neues-passwort-2026!",
            "password2": "neues-passwort-2026!",
        },
    )

    assert response.status_code == 302
    assert is_logged_in(laptop)
    on_phone = phone.get(reverse("dashboard"))
    assert on_phone.status_code == 302
    assert on_phone.url.startswith(reverse("account_login"))
    user.refresh_from_db()
    assert user.check_password("neues-passwort-2026!")


def test_the_password_change_page_is_german_and_reached_from_every_page(db, client):
    client.force_login(make_user())

    dashboard = client.get(reverse("dashboard"))
    security = client.get(reverse("mfa_index"))
    page = client.get(reverse("account_change_password"))

    # Every page links the account's security page, which links the password change.
    assert f'href="{reverse("mfa_index")}"' in dashboard.text
    assert f'href="{reverse("account_change_password")}"' in security.text
    assert page.status_code == 200
    assert "Passwort ändern" in page.text
    assert 'name="oldpassword"' in page.text


def test_a_wrong_old_password_changes_nothing(db, client):
    user = make_user("ines", password="altes-passwort-2026")
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "falsch",
            "password1": "neues-passwort-2026!",
            "password2": "neues-passwort-2026!",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password("altes-passwort-2026")


# CSRF -------------------------------------------------------------------------------------


def all_views(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from all_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_view_skips_the_csrf_check():
    exempt = [route for route, view in all_views() if getattr(view, "csrf_exempt", False)]

    assert exempt == []


# Headers ----------------------------------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_pages_are_served_with_the_security_headers(client, db):
    response = client.get(reverse("account_login"))

    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_policy_allows_no_inline_script_anywhere(client, db):
    policy = csp(client.get(reverse("account_login")))

    for directive in ("script-src", "default-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive]
        assert "'unsafe-eval'" not in policy[directive]


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline script, handlers, style attributes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # A JSON data block (json_script, allauth's passkey options) is never executed.
        is_data = attributes.get("type") == "application/json"
        if tag == "script" and not attributes.get("src") and not is_data:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name == "style":
                self.found.append(f"<{tag} style>")
            if name in {"href", "src", "action"} and (value or "").strip().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def main_flow_pages(draft: Agreement, signed: Agreement) -> list[str]:
    steps = [reverse("agreement_step", args=[draft.pk, step.slug]) for step in wizard.STEPS]
    return [
        reverse("dashboard"),
        reverse("agreement_create"),
        *steps,
        reverse("agreement_step", args=[draft.pk, wizard.REVIEW.slug]),
        reverse("agreement_detail", args=[draft.pk]),
        reverse("agreement_detail", args=[signed.pk]),
        reverse("signed_agreements"),
        reverse("pdf_verify"),
        reverse("account_change_password"),
    ]


def test_no_page_of_the_main_flows_carries_inline_script_or_style(client, signed_demo):
    draft = Agreement.objects.exclude(pk=signed_demo.pk).get()
    marketing = draft.marketing_representative
    client.force_login(marketing)
    pages = {url: client.get(url) for url in main_flow_pages(draft, signed_demo_agreement())}
    submit_agreement(draft)
    pages["sign"] = client.get(reverse("agreement_sign", args=[draft.pk]))
    pages["detail, submitted"] = client.get(reverse("agreement_detail", args=[draft.pk]))
    client.post(reverse("account_logout"))
    pages["login"] = client.get(reverse("account_login"))

    assert {url: r.status_code for url, r in pages.items()} == dict.fromkeys(pages, 200)
    assert {url: inline_code(r.text) for url, r in pages.items()} == {key: [] for key in pages}


def test_the_lockout_and_admin_pages_carry_no_inline_script(client, demo_agreement, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 1
    locked = log_in(Client(), "nobody", "falsch", ip="198.51.100.77")
    admin = make_member(make_organisation(), Role.MANAGEMENT, is_staff=True, is_superuser=True)
    client.force_login(admin)
    pages = {
        "lockout": locked,
        "admin": client.get(reverse("admin:index")),
        "admin list": client.get(reverse("admin:agreements_agreement_changelist")),
        "admin agreement": client.get(
            reverse("admin:agreements_agreement_change", args=[demo_agreement.pk])
        ),
    }

    assert locked.status_code == 429
    assert {name: inline_code(r.text) for name, r in pages.items()} == {key: [] for key in pages}
