"""Our own error pages (sla_portal.errors): every code in German and English, with DEBUG off.

Each page is in the portal's layout, says what happened and offers the way on; none
shows a traceback or Django's bare English text.
"""

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from agreements.models import Agreement
from tests.factories import (
    make_agreement,
    make_complete_agreement,
    make_organisation,
    submit_agreement,
)

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def production(settings):
    """DEBUG off, as in production: Django hands errors to the portal's handlers."""
    settings.DEBUG = False
    return settings


def assert_portal_page(response, status, *texts):
    page = response.content.decode()
    assert response.status_code == status
    assert 'class="navbar-brand' in page  # the portal's layout
    assert f"{status}" in page
    for text in texts:
        assert text in page, text
    assert "Traceback" not in page


def test_404_in_german_and_english(production, client, team):
    client.force_login(team["marketing"])
    german = client.get("/gibt-es-nicht/")
    assert_portal_page(german, 404, "Diese Seite gibt es nicht", "Zur Übersicht")
    english = client.get("/gibt-es-nicht/", **ENGLISH)
    assert_portal_page(english, 404, "This page does not exist", "Go to the dashboard")


def test_404_for_another_organisations_agreement_links_no_agreement(production, client, team):
    agreement = make_agreement(make_organisation())
    client.force_login(team["marketing"])
    response = client.get(reverse("agreement_detail", args=[agreement.pk]))
    assert_portal_page(response, 404, "Diese Seite gibt es nicht")
    assert f'href="{reverse("agreement_detail", args=[agreement.pk])}"' not in response.text


def test_403_names_the_agreement_the_visitor_may_read(production, client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["management"])
    response = client.get(reverse("agreement_step", args=[agreement.pk, "grunddaten"]))
    assert_portal_page(response, 403, "Dafür fehlt Ihnen die Berechtigung", "Zum SLA")
    assert f'href="{reverse("agreement_detail", args=[agreement.pk])}"' in response.text
    english = client.get(reverse("agreement_create"), **ENGLISH)
    assert_portal_page(english, 403, "You do not have permission for this", "Go to the dashboard")


def test_405_for_a_link_to_a_button(production, client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = client.get(reverse("agreement_submit", args=[agreement.pk]))
    assert_portal_page(response, 405, "Diese Adresse lässt sich so nicht aufrufen", "Zum SLA")
    assert response["Allow"] == "POST"
    english = client.get(reverse("agreement_submit", args=[agreement.pk]), **ENGLISH)
    assert_portal_page(english, 405, "This address cannot be opened this way")


def test_400_for_a_forged_host(production, client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert_portal_page(response, 400, "Die Anfrage war ungültig")
    english = client.get("/", HTTP_HOST="evil.example", **ENGLISH)
    assert_portal_page(english, 400, "The request was invalid")


def test_csrf_failure_explains_and_loses_nothing_on_the_server(production, team):
    agreement = make_agreement(team["organisation"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(team["marketing"])
    url = reverse("agreement_step", args=[agreement.pk, "grunddaten"])
    response = client.post(
        url, {"geographic_unit": "Romandie"}, HTTP_REFERER=f"http://testserver{url}"
    )
    assert_portal_page(response, 403, "Die Seite war zu lange offen", "Zurück zur Seite", "Zum SLA")
    english = client.post(url, {"geographic_unit": "Romandie"}, **ENGLISH)
    assert_portal_page(english, 403, "The page was open for too long")
    agreement.refresh_from_db()
    assert agreement.geographic_unit == ""


class DatabaseGone:
    """Every statement reading agreements fails like a lost server."""

    def __call__(self, execute, sql, params, many, context):
        if 'FROM "agreements_agreement"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.parametrize(
    ("headers", "title"),
    [({}, "Das hat leider nicht geklappt"), (ENGLISH, "Unfortunately, that did not work")],
)
def test_500_without_the_database_in_both_languages(production, team, headers, title):
    agreement = make_agreement(team["organisation"])
    client = Client(raise_request_exception=False)
    client.force_login(team["marketing"])
    with connection.execute_wrapper(DatabaseGone()):
        response = client.get(reverse("agreement_detail", args=[agreement.pk]), **headers)
    assert_portal_page(response, 500, title)
    assert "OperationalError" not in response.text


def test_saving_a_step_of_a_submitted_sla_leads_to_its_page_with_what_to_do(production, client):
    agreement = make_complete_agreement()
    submit_agreement(agreement)
    marketing = agreement.marketing_representative
    client.force_login(marketing)
    response = client.post(
        reverse("agreement_step", args=[agreement.pk, "grunddaten"]),
        {"geographic_unit": "Romandie", "go": "next"},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("agreement_detail", args=[agreement.pk]), 302)]
    assert response.status_code == 200
    assert "zur Unterzeichnung eingereicht" in response.text
    assert "Ihre Eingaben auf der Seite wurden deshalb nicht gespeichert." in response.text
    assert Agreement.objects.get(pk=agreement.pk).geographic_unit != "Romandie"
