"""The lists (views.lists): the dashboard of the own organisations' agreements, filtered,
searched and paged, and the signed agreements with their PDFs."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.document import swiss_date
from agreements.enums import AgreementStatus, Party, Role
from agreements.models import Agreement, Membership, Organisation
from tests.factories import (
    make_agreement,
    make_member,
    make_organisation,
    sign_agreement,
    submit_agreement,
)

pytestmark = pytest.mark.django_db

NEW_SLA = reverse("agreement_create")


def listed(response) -> set[int]:
    """The agreements the page links to."""
    return {int(pk) for pk in re.findall(r'href="/agreements/(\d+)/"', response.text)}


def dashboard(client, **params):
    response = client.get(reverse("dashboard"), params)
    assert response.status_code == 200
    return response


@pytest.fixture
def organisation():
    return make_organisation("Muster AG")


@pytest.fixture
def marketing(organisation):
    return make_member(organisation, Role.MARKETING, first_name="Anna", last_name="Keller")


@pytest.fixture
def sales(organisation):
    return make_member(organisation, Role.SALES, first_name="Marco", last_name="Brunner")


@pytest.fixture
def management(organisation):
    return make_member(organisation, Role.MANAGEMENT, first_name="Claudia", last_name="Meier")


def test_an_agreement_shows_status_period_parties_and_last_change(
    client, organisation, marketing, sales, management
):
    agreement = make_agreement(
        organisation,
        start_date=datetime.date(2027, 1, 1),
        end_date=datetime.date(2027, 12, 31),
        geographic_unit="Deutschschweiz",
        marketing_representative=marketing,
        sales_representative=sales,
        updated_by=sales,
    )
    client.force_login(management)
    response = dashboard(client)
    assert listed(response) == {agreement.pk}
    assert "SLA Marketing & Sales Muster AG" in response.text
    assert "Deutschschweiz" in response.text
    assert "Entwurf" in response.text
    assert "01.01.2027–31.12.2027" in response.text
    assert "Anna Keller" in response.text
    assert "Marco Brunner" in response.text
    assert "von Marco Brunner" in response.text
    assert agreement.updated_at.astimezone().strftime("%d.%m.%Y") in response.text


def test_other_organisations_agreements_are_never_shown(client, organisation, marketing):
    own = make_agreement(organisation)
    other = make_agreement(make_organisation("Konkurrenz GmbH"), geographic_unit="Romandie")
    client.force_login(marketing)
    assert listed(dashboard(client)) == {own.pk}
    assert listed(dashboard(client, q="Konkurrenz")) == set()
    assert listed(dashboard(client, q="Romandie")) == set()
    assert listed(dashboard(client, status=AgreementStatus.DRAFT)) == {own.pk}
    assert other.pk not in listed(dashboard(client, page=2))


def test_a_member_of_two_organisations_sees_both_and_finds_each_by_name(
    client, organisation, marketing
):
    second = make_organisation("Tochter GmbH")
    Membership.objects.create(user=marketing, organisation=second, role=Role.MANAGEMENT)
    first_sla, second_sla = make_agreement(organisation), make_agreement(second)
    client.force_login(marketing)
    assert listed(dashboard(client)) == {first_sla.pk, second_sla.pk}
    assert listed(dashboard(client, q="tochter")) == {second_sla.pk}
    assert listed(dashboard(client, q="Muster")) == {first_sla.pk}


def test_filter_by_status(client, organisation, sales):
    draft = make_agreement(organisation)
    signed = make_agreement(organisation, status=AgreementStatus.SIGNED)
    client.force_login(sales)
    response = dashboard(client, status=AgreementStatus.SIGNED)
    assert listed(response) == {signed.pk}
    assert '<option value="signed" selected>' in response.text
    assert listed(dashboard(client, status=AgreementStatus.DRAFT)) == {draft.pk}


def test_an_unknown_status_shows_everything(client, organisation, sales):
    agreements = {make_agreement(organisation).pk, make_agreement(organisation).pk}
    client.force_login(sales)
    assert listed(dashboard(client, status="gibtsnicht")) == agreements


@pytest.mark.parametrize(
    "query",
    ["Deutschschweiz", "KMU", "Playbook", "Keller", "anna keller", "Brunner Muster"],
)
def test_search_finds_organisation_place_group_system_and_people(
    client, organisation, marketing, sales, query
):
    found = make_agreement(
        organisation,
        geographic_unit="Deutschschweiz",
        group_subgroup="KMU",
        system_name="Inbound Playbook",
        marketing_representative=marketing,
        sales_representative=sales,
    )
    make_agreement(organisation, geographic_unit="Tessin")
    client.force_login(marketing)
    response = dashboard(client, q=query)
    assert listed(response) == {found.pk}
    assert f'value="{query}"' in response.text


def test_search_without_a_match_says_so_and_offers_the_full_list(client, organisation, sales):
    make_agreement(organisation)
    client.force_login(sales)
    response = dashboard(client, q="Nirgendwo")
    assert listed(response) == set()
    assert "Keine Vereinbarung passt zu Suche und Filter." in response.text
    assert NEW_SLA not in response.text.split("Keine Vereinbarung passt")[1]


def test_twenty_agreements_per_page(client, organisation, sales):
    for _ in range(45):
        make_agreement(organisation)
    client.force_login(sales)
    first, third = dashboard(client), dashboard(client, page=3)
    assert len(listed(first)) == 20
    assert len(listed(third)) == 5
    assert listed(first).isdisjoint(listed(third))
    assert "45 Vereinbarungen · Seite 1 von 3" in first.text
    assert '<span class="page-link" aria-current="page">' in third.text


def test_page_links_keep_filter_and_search(client, organisation, sales):
    for _ in range(21):
        make_agreement(organisation, geographic_unit="Deutschschweiz")
    make_agreement(organisation, status=AgreementStatus.SIGNED, geographic_unit="Deutschschweiz")
    client.force_login(sales)
    response = dashboard(client, status=AgreementStatus.DRAFT, q="Deutschschweiz")
    assert 'href="?status=draft&amp;q=Deutschschweiz&amp;page=2"' in response.text
    second = dashboard(client, status=AgreementStatus.DRAFT, q="Deutschschweiz", page=2)
    assert len(listed(second)) == 1
    assert 'href="?status=draft&amp;q=Deutschschweiz&amp;page=1"' in second.text


def test_a_page_number_out_of_range_shows_the_last_page(client, organisation, sales):
    agreement = make_agreement(organisation)
    client.force_login(sales)
    assert listed(dashboard(client, page=99)) == {agreement.pk}
    assert listed(dashboard(client, page="x")) == {agreement.pk}


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES])
def test_authors_start_from_the_empty_state(client, organisation, role):
    client.force_login(make_member(organisation, role))
    response = dashboard(client)
    assert "Noch keine Leistungsvereinbarung." in response.text
    assert f'href="{NEW_SLA}"' in response.text
    assert "Neues SLA" in response.text


def test_management_sees_the_empty_state_without_new_sla(client, organisation, management):
    client.force_login(management)
    response = dashboard(client)
    assert "Noch keine Leistungsvereinbarung." in response.text
    assert NEW_SLA not in response.text
    assert "Neues SLA" not in response.text
    assert 'role="search"' not in response.text  # nothing to filter yet


def test_management_reads_the_list_without_new_sla(client, organisation, management):
    agreement = make_agreement(organisation)
    client.force_login(management)
    response = dashboard(client)
    assert listed(response) == {agreement.pk}
    assert NEW_SLA not in response.text


def test_authors_find_new_sla_above_a_filled_list(client, organisation, marketing):
    make_agreement(organisation)
    client.force_login(marketing)
    assert f'href="{NEW_SLA}"' in dashboard(client).text


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_query_count_does_not_grow_with_the_agreements(client, organisation, marketing):
    def add_agreements(count):
        # Every agreement with its own people, so each relation would cost a query.
        for _ in range(count):
            make_agreement(
                organisation,
                start_date=datetime.date(2027, 1, 1),
                end_date=datetime.date(2027, 12, 31),
                marketing_representative=make_member(organisation, Role.MARKETING),
                sales_representative=make_member(organisation, Role.SALES),
                updated_by=make_member(organisation, Role.MANAGEMENT),
            )

    client.force_login(marketing)
    add_agreements(2)
    with CaptureQueriesContext(connection) as few:
        dashboard(client)
    add_agreements(28)
    with CaptureQueriesContext(connection) as many:
        response = dashboard(client)
    assert len(listed(response)) == 20
    assert len(many) == len(few)


def test_the_kept_list_follows_every_change_it_shows(client, organisation, marketing, sales):
    """The rendered list is kept, but never outlives what it shows: a changed agreement,
    a renamed organisation or person, another language appear on the next request."""
    agreement = make_agreement(organisation, marketing_representative=marketing)
    client.force_login(sales)
    assert "Anna Keller" in dashboard(client).text

    marketing.first_name = "Anne"
    marketing.save()
    organisation.name = "Muster Holding AG"
    organisation.save()
    agreement.geographic_unit = "Romandie"
    agreement.save()
    response = dashboard(client)

    assert "Anne Keller" in response.text
    assert "Anna Keller" not in response.text
    assert "SLA Marketing & Sales Muster Holding AG" in response.text
    assert "Romandie" in response.text
    client.cookies["django_language"] = "en"
    assert "Last change" in dashboard(client).text


def test_on_a_phone_the_table_carries_its_labels_beside_the_values(client, organisation, sales):
    make_agreement(organisation, geographic_unit="Deutschschweiz")
    client.force_login(sales)
    response = dashboard(client)
    # One table for every width (no second copy as cards); portal.css shows these labels
    # below the md breakpoint, where the column headers are hidden.
    assert len(re.findall(r'href="/agreements/\d+/"', response.text)) == 1
    for label in ("Zeitraum", "Parteien", "Letzte Änderung"):
        assert f'<span class="cell-label">{label}</span>' in response.text


def test_a_person_who_is_deleted_disappears_from_the_kept_list(client, organisation, sales):
    editor = make_member(organisation, Role.MARKETING, first_name="Beat", last_name="Frei")
    make_agreement(organisation, updated_by=editor)
    client.force_login(sales)
    assert "von Beat Frei" in dashboard(client).text

    editor.delete()

    assert "Beat Frei" not in dashboard(client).text


def test_a_login_does_not_move_the_organisations_stamp(client, organisation, sales):
    """Only a name moves it: a login (which saves last_login) keeps the list in the cache."""
    sales.set_password("geheim-123")
    sales.save()
    before = Organisation.objects.get(pk=organisation.pk).updated_at
    assert client.login(username=sales.username, password="geheim-123")
    assert Organisation.objects.get(pk=organisation.pk).updated_at == before


def test_a_users_other_parameters_never_reach_the_shared_list(client, organisation, sales):
    for _ in range(21):
        make_agreement(organisation)
    client.force_login(sales)
    # Another member of the organisation asked first, with a parameter of their own.
    first = dashboard(client, utm_source="newsletter-anna")
    second = dashboard(client)
    for response in (first, second):
        assert 'href="?page=2"' in response.text
        assert "newsletter-anna" not in response.text.split("</form>")[-1]


def test_the_dashboard_loads_no_agreement_while_its_list_is_kept(client, organisation, sales):
    for _ in range(3):
        make_agreement(organisation)
    client.force_login(sales)
    dashboard(client)  # renders and keeps the list
    with CaptureQueriesContext(connection) as queries:
        response = dashboard(client)
    assert len(listed(response)) == 3
    # Only the memberships, which every page reads, look at the agreements (for their
    # last change, which is part of the key); no agreement of the list is loaded or
    # counted. The one other query is the user's own call to action (issue 19): which
    # agreements await their signature, asked for each request, never kept in the list.
    reading_agreements = [
        q["sql"]
        for q in queries
        if '"agreements_agreement"' in q["sql"] and '"agreements_membership"' not in q["sql"]
    ]
    assert len(reading_agreements) == 1
    assert "'awaiting_signatures'" in reading_agreements[0]


def test_a_deleted_draft_leaves_the_kept_list(client, organisation, sales):
    older, newer = make_agreement(organisation), make_agreement(organisation)
    client.force_login(sales)
    assert listed(dashboard(client)) == {older.pk, newer.pk}

    older.delete()  # not the newest: no agreement's updated_at tells of it

    response = dashboard(client)
    assert listed(response) == {newer.pk}
    assert "1 Vereinbarung" in response.text


def test_a_representative_whose_signature_is_missing_is_called_to_sign(client, organisation):
    from tests.factories import make_complete_agreement, sign_agreement, submit_agreement

    agreement = make_complete_agreement(organisation)
    submit_agreement(agreement)
    marketing, sales = agreement.marketing_representative, agreement.sales_representative
    sign_url = reverse("agreement_sign", args=[agreement.pk])

    client.force_login(marketing)
    page = dashboard(client).text
    assert "Ihre Unterschrift fehlt — jetzt unterzeichnen" in page
    assert f'href="{sign_url}"' in page
    detail = client.get(reverse("agreement_detail", args=[agreement.pk])).text
    assert 'id="sign-call"' in detail and f'href="{sign_url}"' in detail

    sign_agreement(agreement, Party.MARKETING)
    assert "Ihre Unterschrift fehlt" not in dashboard(client).text  # signed: not called again
    assert 'id="sign-call"' not in client.get(reverse("agreement_detail", args=[agreement.pk])).text

    # The other representative is called, though the list they share with Anna is kept.
    client.force_login(sales)
    assert f'href="{sign_url}"' in dashboard(client).text


def test_nobody_else_is_called_to_sign(client, organisation, management):
    from tests.factories import make_complete_agreement, submit_agreement

    agreement = make_complete_agreement(organisation)
    submit_agreement(agreement)
    other_marketing = make_member(organisation, Role.MARKETING)
    for user in (management, other_marketing):
        client.force_login(user)
        assert "Ihre Unterschrift fehlt" not in dashboard(client).text
        detail = client.get(reverse("agreement_detail", args=[agreement.pk])).text
        assert 'id="sign-call"' not in detail


# --- The list of signed agreements --------------------------------------------------------


def test_management_finds_the_signed_demo_with_its_download(client, signed_demo, demo_agreement):
    client.login(username="management", password="demo")

    response = client.get(reverse("signed_agreements"))

    assert response.status_code == 200
    text = " ".join(response.text.split())
    assert "01.01.2026–31.12.2026" in text
    assert "Anna Keller, Leiterin Inbound Marketing" in text
    assert "Marco Brunner, Leiter Inbound Sales" in text
    assert swiss_date(timezone.localtime(signed_demo.completed_at).date()) in text
    assert reverse("agreement_pdf", args=[signed_demo.pk]) in text
    # The 2027 draft is not signed, so it is not listed.
    assert reverse("agreement_detail", args=[demo_agreement.pk]) not in text
    assert f'href="{reverse("signed_agreements")}"' in text  # the navbar links here


def test_the_list_shows_only_the_own_organisations_agreements(client, signed_demo):
    client.force_login(make_member(make_organisation(), Role.MANAGEMENT))
    response = client.get(reverse("signed_agreements"))
    assert response.status_code == 200
    assert reverse("agreement_pdf", args=[signed_demo.pk]) not in response.text
    assert "Noch keine Vereinbarung ist vollständig unterzeichnet." in response.text


def test_the_lists_query_count_does_not_grow_with_the_agreements(client, demo_agreement):
    def sign_copies(years):
        for year in years:
            copy = Agreement.objects.get(pk=demo_agreement.pk)
            copy.pk = None
            copy.start_date = datetime.date(year, 1, 1)
            copy.end_date = datetime.date(year, 12, 31)
            copy.renewal_date = datetime.date(year, 12, 1)
            copy.save()
            submit_agreement(copy)
            sign_agreement(copy, Party.MARKETING)
            sign_agreement(copy, Party.SALES)

    client.login(username="management", password="demo")
    sign_copies(range(2030, 2032))
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("signed_agreements"))
    assert response.text.count("PDF herunterladen") == 2 + 1  # and the demo's 2026 SLA
    sign_copies(range(2032, 2040))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("signed_agreements"))
    assert response.text.count("PDF herunterladen") == 10 + 1
    assert len(many) == len(few)
