"""Single sign-on by OpenID Connect, against a real provider started on 127.0.0.1.

The portal (Django's test client) and the provider (tests/oidc_provider, its own
process) speak HTTP as in production: the portal redirects to the provider, the person
signs in there, the provider redirects back with a code, and the portal exchanges it
at the provider's token endpoint and checks the signed ID token against its keys.
"""

from urllib.parse import urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from agreements.enums import Role
from agreements.models import Organisation

from .factories import make_member, make_organisation, make_user
from .sso import PROVIDER_ID, PROVIDER_NAME, log_in_at_provider


def sso_log_in(client, username: str):
    """Press the provider's button on the log-in page, sign in there, come back."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}))
    assert start.status_code == 302, start.status_code
    callback = urlsplit(log_in_at_provider(start["Location"], username))
    return client.get(f"{callback.path}?{callback.query}")


def is_logged_in_as(client, user) -> bool:
    return client.get(reverse("dashboard")).wsgi_request.user == user


@pytest.fixture
def anna(db):
    return make_member(
        make_organisation("Muster AG"),
        Role.MARKETING,
        "anna",
        email="anna.keller@muster.example",
        password="portal-pass-2026",
    )


def test_the_log_in_page_offers_the_configured_provider(client, sso, db):
    page = client.get(reverse("account_login"))

    assert f"Mit {PROVIDER_NAME} anmelden" in page.text
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    assert f'action="{login_url}' in page.text  # a form: the log-in starts by POST


def test_a_first_sso_log_in_links_the_account_with_the_verified_address(client, sso, anna):
    response = sso_log_in(client, "anna.idp")

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert is_logged_in_as(client, anna)
    account = SocialAccount.objects.get(user=anna)
    assert account.provider == PROVIDER_ID
    anna.refresh_from_db()
    assert anna.check_password("portal-pass-2026")  # linking takes nothing away
    assert anna.memberships.get().role == Role.MARKETING  # roles stay the portal's


def test_the_second_sso_log_in_finds_the_link_even_after_the_address_changed(client, sso, anna):
    sso_log_in(client, "anna.idp")
    client.post(reverse("account_logout"))
    anna.email = "anna@neu.example"
    anna.save()

    sso_log_in(client, "anna.idp")

    assert is_logged_in_as(client, anna)
    assert SocialAccount.objects.filter(user=anna).count() == 1


def test_an_unverified_address_links_to_no_account(client, sso, db):
    beat = make_user("beat", email="beat.sales@muster.example")

    response = sso_log_in(client, "mallory.idp")

    assert response.status_code == 200
    assert "Kein Konto im SLA-Portal" in response.text
    assert not SocialAccount.objects.exists()
    assert not is_logged_in_as(client, beat)
    assert client.get(reverse("dashboard")).status_code == 302  # still anonymous


def test_an_address_without_account_creates_none(client, sso, db):
    make_user("someone")

    response = sso_log_in(client, "zora.idp")

    assert "Kein Konto im SLA-Portal" in response.text
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["someone"]
    assert not SocialAccount.objects.exists()


def test_two_accounts_with_the_address_link_to_neither(client, sso, db):
    make_user("anna1", email="anna.keller@muster.example")
    make_user("anna2", email="Anna.Keller@muster.example")

    response = sso_log_in(client, "anna.idp")

    assert "Kein Konto im SLA-Portal" in response.text
    assert not SocialAccount.objects.exists()


def test_an_organisation_that_requires_sso_refuses_the_password(client, sso, anna):
    Organisation.objects.update(require_sso=True)

    refused = client.post(
        reverse("account_login"), {"login": "anna", "password": "portal-pass-2026"}
    )

    assert refused.status_code == 403
    assert "Bitte melden Sie sich über Ihre Firma an" in refused.text
    assert f"Mit {PROVIDER_NAME} anmelden" in refused.text
    assert client.get(reverse("dashboard")).status_code == 302

    sso_log_in(client, "anna.idp")

    assert is_logged_in_as(client, anna)


def test_a_wrong_password_of_an_sso_member_is_an_ordinary_failure(client, sso, anna):
    Organisation.objects.update(require_sso=True)

    response = client.post(reverse("account_login"), {"login": "anna", "password": "falsch"})

    # Nothing tells a guesser that the account exists or how its organisation logs in.
    assert response.status_code == 200
    assert "Ihre Firma" not in response.text


def test_providers_come_from_the_environment(monkeypatch, tmp_path):
    from sla_portal.settings import env_oidc_providers

    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SLA_OIDC_PROVIDERS", "entra,keycloak")
    monkeypatch.setenv("SLA_OIDC_ENTRA_NAME", "Microsoft Entra ID")
    monkeypatch.setenv("SLA_OIDC_ENTRA_ISSUER", "https://login.microsoftonline.com/t/v2.0")
    monkeypatch.setenv("SLA_OIDC_ENTRA_CLIENT_ID", "entra-client")
    monkeypatch.setenv("SLA_OIDC_ENTRA_SECRET_FILE", str(secret))
    monkeypatch.setenv("SLA_OIDC_ENTRA_VERIFIED_DOMAINS", "muster.ch, muster.de")
    monkeypatch.setenv("SLA_OIDC_KEYCLOAK_ISSUER", "https://id.muster.ch/realms/muster")
    monkeypatch.setenv("SLA_OIDC_KEYCLOAK_CLIENT_ID", "sla")
    monkeypatch.setenv("SLA_OIDC_KEYCLOAK_SECRET", "s3cret")

    entra, keycloak = env_oidc_providers()

    assert entra == {
        "provider_id": "entra",
        "name": "Microsoft Entra ID",
        "client_id": "entra-client",
        "secret": "from-a-file",
        "settings": {
            "server_url": "https://login.microsoftonline.com/t/v2.0",
            "verified_email": ["muster.ch", "muster.de"],
        },
    }
    assert keycloak["name"] == "keycloak"
    assert keycloak["settings"] == {"server_url": "https://id.muster.ch/realms/muster"}


def test_a_provider_without_its_secret_stops_the_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from sla_portal.settings import env_oidc_providers

    monkeypatch.setenv("SLA_OIDC_PROVIDERS", "google")
    monkeypatch.setenv("SLA_OIDC_GOOGLE_ISSUER", "https://accounts.google.com")
    monkeypatch.setenv("SLA_OIDC_GOOGLE_CLIENT_ID", "id")

    with pytest.raises(ImproperlyConfigured, match="SLA_OIDC_GOOGLE_SECRET"):
        env_oidc_providers()


def test_an_invited_person_of_an_sso_organisation_logs_in_through_the_provider(
    client, sso, db, django_capture_on_commit_callbacks
):
    """The invitation makes the account without a password; the provider's verified
    address then links the first single sign-on to it (issue 20)."""
    import re

    from django.core import mail

    from agreements.team.domain import invitation_create

    organisation = Organisation.objects.create(name="Muster AG", require_sso=True)
    boss = make_member(organisation, Role.MANAGEMENT, "boss")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organisation=organisation,
            email="anna.keller@muster.example",
            role=Role.MARKETING,
            actor=boss,
        )
    link = re.search(r"https?://[^/\s]+(/einladung/\S+/)", mail.outbox[-1].body).group(1)
    page = client.get(link)
    assert "password1" not in page.text  # the organisation's provider is the way in

    response = client.post(link, {"first_name": "Anna", "last_name": "Keller"})
    assert response["Location"] == reverse("account_login")
    response = sso_log_in(client, "anna.idp")

    anna = get_user_model().objects.get(email="anna.keller@muster.example")
    assert response["Location"] == reverse("dashboard")
    assert is_logged_in_as(client, anna)
    assert anna.memberships.get().role == Role.MARKETING
    assert not anna.has_usable_password()
