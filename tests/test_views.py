"""Who reads which agreement: members read, everyone else is refused."""

import pytest
from django.urls import reverse

from agreements.enums import Role
from tests.factories import make_agreement, make_member, make_organisation


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["marketing", "sales", "management"])
def test_members_read_the_complete_sla(client, demo_agreement, username):
    client.login(username=username, password="demo")
    response = client.get(reverse("agreement_detail", args=[demo_agreement.pk]))
    assert response.status_code == 200
    assert "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG" in (
        response.text
    )
    assert "34’000" in response.text


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client, demo_agreement):
    url = reverse("agreement_detail", args=[demo_agreement.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.django_db
def test_members_of_another_organisation_get_404(client, demo_agreement):
    outsider = make_member(make_organisation(), Role.MANAGEMENT)
    client.force_login(outsider)
    response = client.get(reverse("agreement_detail", args=[demo_agreement.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_staff_without_membership_get_404(client, demo_agreement):
    client.login(username="admin", password="demo")
    assert client.get(reverse("agreement_detail", args=[demo_agreement.pk])).status_code == 404


@pytest.mark.django_db
def test_dashboard_lists_only_the_own_organisations_agreements(client, demo_agreement):
    other = make_agreement(make_organisation("Konkurrenz GmbH"))
    client.login(username="sales", password="demo")
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert reverse("agreement_detail", args=[demo_agreement.pk]) in response.text
    assert reverse("agreement_detail", args=[other.pk]) not in response.text


@pytest.mark.django_db
def test_a_draft_marks_what_is_missing(client):
    organisation = make_organisation()
    member = make_member(organisation, Role.MARKETING)
    agreement = make_agreement(organisation)
    client.force_login(member)
    response = client.get(reverse("agreement_detail", args=[agreement.pk]))
    assert response.status_code == 200
    assert '<mark class="placeholder" title="Fehlt: Startdatum">[START_DATUM]</mark>' in (
        response.text
    )


@pytest.mark.django_db
def test_interface_speaks_english_on_request(client, demo_agreement):
    client.login(username="marketing", password="demo")
    response = client.get(reverse("dashboard"), headers={"accept-language": "en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
