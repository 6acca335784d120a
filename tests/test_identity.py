"""Identity around signing and passwords (issue 15): second factors at the sign form,
the throttle on every password check, the password reset as a designed feature.

Single sign-on has its own module (test_sso.py); passkeys need a browser's
authenticator and are tested in tests/e2e/test_passkeys.py.
"""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse

from agreements.enums import AuditAction, Party, SigningMethod
from agreements.models import AuditEvent, Organisation
from agreements.workflow import WorkflowError
from tests.factories import fresh, make_user, submit_agreement

SECRET = "JBSWY3DPEHPK3PXP"  # the authenticator app's shared secret (base32)


def current_code(secret=SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_url(agreement) -> str:
    return reverse("agreement_sign", args=[agreement.pk])


def sign_data(agreement, **factor) -> dict:
    return {
        "typed_name": "Anna Keller",
        "consent": "on",
        "content_sha256": fresh(agreement).content_sha256,
        **factor,
    }


@pytest.fixture
def submitted(demo_agreement):
    submit_agreement(demo_agreement)
    mail.outbox.clear()
    return fresh(demo_agreement)


@pytest.fixture
def anna(client, submitted):
    """Marketing's representative, logged in through the log-in form."""
    client.post(reverse("account_login"), {"login": "marketing", "password": "demo"})
    return submitted.marketing_representative


@pytest.fixture
def second_factor_required(submitted):
    Organisation.objects.filter(pk=submitted.organisation_id).update(
        require_signing_second_factor=True
    )


# The sign form's factors -------------------------------------------------------------


def test_a_second_factor_organisation_refuses_the_password_alone(
    client, anna, submitted, second_factor_required
):
    TOTP.activate(anna, SECRET)

    page = client.get(sign_url(submitted))
    response = client.post(sign_url(submitted), sign_data(submitted, password="demo"))

    assert 'name="password"' not in page.text  # the page does not even ask for it
    assert 'name="code"' in page.text
    assert response.status_code == 422
    assert "Bitte bestätigen Sie mit einem der Verfahren unten." in response.text
    assert not submitted.signatures.exists()


def test_a_totp_code_signs_and_the_event_records_the_method(
    client, anna, submitted, second_factor_required
):
    TOTP.activate(anna, SECRET)

    response = client.post(sign_url(submitted), sign_data(submitted, code=current_code()))

    assert response.status_code == 302
    signature = submitted.signatures.get()
    assert signature.party == Party.MARKETING
    event = AuditEvent.objects.get(agreement=submitted, action=AuditAction.SIGNED)
    assert event.details["method"] == "totp"


def test_a_totp_code_counts_only_once(rf, db):
    from agreements.identity.signing import totp_confirms

    user = make_user("ute")
    TOTP.activate(user, SECRET)
    code = current_code()

    first = totp_confirms(rf.post("/"), user, code)
    replayed = totp_confirms(rf.post("/"), user, code)

    assert (first, replayed) == (True, False)


def test_a_wrong_code_signs_nothing(client, anna, submitted, second_factor_required):
    TOTP.activate(anna, SECRET)
    wrong = "123456" if current_code() != "123456" else "654321"

    response = client.post(sign_url(submitted), sign_data(submitted, code=wrong))

    assert response.status_code == 422
    assert "Der Code ist nicht korrekt oder schon verwendet." in response.text
    assert not submitted.signatures.exists()


def test_without_a_factor_the_page_asks_to_enrol_one(
    client, anna, submitted, second_factor_required
):
    page = client.get(sign_url(submitted))
    refused = client.post(sign_url(submitted), sign_data(submitted, password="demo"))

    assert "Sie haben noch keinen eingerichtet." in page.text
    assert f'href="{reverse("mfa_index")}"' in page.text
    assert 'id="sign-form"' not in page.text
    assert refused.status_code == 422
    assert not submitted.signatures.exists()


def test_the_password_still_signs_where_no_second_factor_is_required(client, anna, submitted):
    response = client.post(sign_url(submitted), sign_data(submitted, password="demo"))

    assert response.status_code == 302
    event = AuditEvent.objects.get(agreement=submitted, action=AuditAction.SIGNED)
    assert event.details["method"] == "password"


def test_the_workflow_itself_refuses_a_password_signature_where_a_factor_is_required(
    submitted, second_factor_required
):
    from agreements.workflow import agreement_sign

    from .factories import make_request_meta

    user = submitted.marketing_representative
    with pytest.raises(WorkflowError, match="zweiten Faktor"):
        agreement_sign(
            agreement=submitted,
            party=Party.MARKETING,
            user=user,
            typed_name=user.get_full_name(),
            content_sha256=submitted.content_sha256,
            meta=make_request_meta(),
            method=SigningMethod.PASSWORD,
        )
    assert not submitted.signatures.exists()


# Every password check counts with django-axes -------------------------------------------


@pytest.fixture
def throttle(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def test_wrong_passwords_at_the_sign_form_lock_the_account(client, anna, submitted, throttle):
    for _ in range(throttle - 1):
        response = client.post(sign_url(submitted), sign_data(submitted, password="falsch"))
        assert response.status_code == 422
    locked = client.post(sign_url(submitted), sign_data(submitted, password="falsch"))
    then_right = client.post(sign_url(submitted), sign_data(submitted, password="demo"))

    assert locked.status_code == 429
    assert then_right.status_code == 429  # the lockout holds even for the right password
    assert not submitted.signatures.exists()
    assert AccessAttempt.objects.get(username="marketing").failures_since_start == throttle
    at_log_in = Client().post(reverse("account_login"), {"login": "marketing", "password": "demo"})
    assert at_log_in.status_code == 429  # the same account is locked at the log-in too


def test_wrong_codes_at_the_sign_form_count_like_wrong_passwords(
    client, anna, submitted, throttle, second_factor_required
):
    TOTP.activate(anna, SECRET)
    wrong = "123456" if current_code() != "123456" else "654321"
    for _ in range(throttle):
        client.post(sign_url(submitted), sign_data(submitted, code=wrong))

    response = client.post(sign_url(submitted), sign_data(submitted, code=current_code()))

    assert response.status_code == 429
    assert not submitted.signatures.exists()


def test_wrong_current_passwords_at_the_password_change_count(client, db, throttle):
    user = make_user("ines", password="altes-passwort-2026")
    client.post(reverse("account_login"), {"login": "ines", "password": "altes-passwort-2026"})
    change = {"password1": "neues-passwort-2026!", "password2": "neues-passwort-2026!"}
    for _ in range(throttle - 1):
        response = client.post(
            reverse("account_change_password"), {"oldpassword": "falsch", **change}
        )
        assert response.status_code == 200

    locked = client.post(reverse("account_change_password"), {"oldpassword": "falsch", **change})
    right = client.post(
        reverse("account_change_password"), {"oldpassword": "altes-passwort-2026", **change}
    )

    assert locked.status_code == 429
    assert right.status_code == 429
    user.refresh_from_db()
    assert user.check_password("altes-passwort-2026")


# Password reset --------------------------------------------------------------------------


def reset_link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body).group(0)


def test_a_reset_mails_a_german_link_that_ends_every_session(db, caplog):
    user = make_user("hans", email="hans@muster.example", password="altes-passwort-2026")
    laptop, phone, stranger = Client(), Client(), Client()
    for device in (laptop, phone):
        device.post(reverse("account_login"), {"login": "hans", "password": "altes-passwort-2026"})
        assert device.get(reverse("dashboard")).status_code == 200

    stranger.post(reverse("account_reset_password"), {"email": "hans@muster.example"})
    (message,) = mail.outbox
    link = reset_link(message)
    form = stranger.get(link, follow=True)
    done = stranger.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": "neues-passwort-2026!", "password2": "neues-passwort-2026!"},
    )

    assert message.subject == "SLA-Portal: Passwort zurücksetzen"
    assert "Minuten" in message.body
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("neues-passwort-2026!")
    for device in (laptop, phone):
        assert device.get(reverse("dashboard")).status_code == 302  # back to the log-in
    assert stranger.get(reverse("dashboard")).status_code == 302  # the link logs no one in
    assert any("reset by mailed link" in r.getMessage() for r in caplog.records)
    assert mail.outbox[-1].subject == "SLA-Portal: Ihr Passwort wurde zurückgesetzt"


def test_a_reset_link_expires(db, settings):
    make_user("lea", email="lea@muster.example")
    Client().post(reverse("account_reset_password"), {"email": "lea@muster.example"})
    link = reset_link(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1  # any link is older than that

    page = Client().get(link, follow=True)

    assert "ungültig" in page.text.lower() or "abgelaufen" in page.text.lower()
    assert 'name="password1"' not in page.text


def test_no_reset_mail_for_an_address_without_account_or_an_sso_member(db, sso):
    from agreements.enums import Role

    from .factories import make_member, make_organisation

    organisation = make_organisation()
    make_member(organisation, Role.SALES, "sso-only", email="sso@muster.example")
    Organisation.objects.filter(pk=organisation.pk).update(require_sso=True)

    for address in ("niemand@muster.example", "sso@muster.example"):
        response = Client().post(reverse("account_reset_password"), {"email": address})
        assert response.status_code == 302  # the same answer either way

    assert mail.outbox == []


def test_reset_requests_are_limited_per_address_typed(db):
    make_user("mia", email="mia@muster.example")

    answers = [
        Client()
        .post(
            reverse("account_reset_password"),
            {"email": "mia@muster.example"},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
        .status_code
        for n in range(5)
    ]

    assert answers[:3] == [302, 302, 302]
    assert 429 in answers[3:]
    assert len(mail.outbox) == 3


def test_reset_requests_are_limited_per_account_whichever_address_is_typed(db):
    from allauth.account.models import EmailAddress

    user = make_user("noah", email="noah@muster.example")
    EmailAddress.objects.create(user=user, email="noah@muster.example", primary=True, verified=True)
    EmailAddress.objects.create(user=user, email="n.keller@muster.example", verified=True)

    answers = [
        Client()
        .post(reverse("account_reset_password"), {"email": address}, REMOTE_ADDR=f"198.51.100.{n}")
        .status_code
        for n, address in enumerate(["noah@muster.example", "n.keller@muster.example"] * 3)
    ]

    assert answers == [302] * 6  # the same answer as always: nothing to learn
    assert len(mail.outbox) == 3


def test_a_completed_reset_is_in_the_accounts_history(db):
    from django.contrib.admin.models import CHANGE, LogEntry

    user = make_user("olga", email="olga@muster.example", password="altes-passwort-2026")
    Client().post(reverse("account_reset_password"), {"email": "olga@muster.example"})
    link = reset_link(mail.outbox[0])
    stranger = Client()
    form = stranger.get(link, follow=True)

    stranger.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"password1": "neues-passwort-2026!", "password2": "neues-passwort-2026!"},
    )

    (entry,) = LogEntry.objects.filter(object_id=str(user.pk))
    assert entry.action_flag == CHANGE
    assert entry.change_message.startswith("Passwort per Link aus der E-Mail zurückgesetzt")


def test_reset_requests_are_limited_per_client_address(db):
    answers = [
        Client()
        .post(
            reverse("account_reset_password"),
            {"email": f"person{n}@muster.example"},
            REMOTE_ADDR="198.51.100.9",
        )
        .status_code
        for n in range(7)
    ]

    assert answers[:5] == [302] * 5
    assert answers[5:] == [429, 429]


def test_enrolled_factors_are_listed(client, db):
    user = make_user("otto")
    TOTP.activate(user, SECRET)
    client.force_login(user)

    page = client.get(reverse("mfa_index"))

    assert page.status_code == 200
    assert Authenticator.objects.filter(user=user).count() == 1
