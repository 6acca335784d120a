"""The authoring wizard: steps save to the database, rights by role, no lost work."""

import datetime
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.document import SlaDocument
from agreements.enums import Role
from agreements.models import Agreement, FurtherDefinition, Membership
from agreements.wizard import STEPS
from tests.factories import make_agreement, make_member, make_organisation, make_pdf


def step_url(agreement, slug):
    return reverse("agreement_step", args=[agreement.pk, slug])


def loaded_on_page(client, agreement, slug) -> str:
    """What the step's page carries about the values it was loaded with."""
    page = client.get(step_url(agreement, slug)).text
    return html.unescape(re.search(r'name="loaded" value="([^"]*)"', page)[1])


def post_step(client, agreement, slug, data, go="next", loaded=None):
    """Load the step's page, then post ``data`` from it (or from a page loaded earlier)."""
    if loaded is None:
        loaded = loaded_on_page(client, agreement, slug)
    return client.post(step_url(agreement, slug), {"loaded": loaded, "go": go, **data})


def test_a_marketing_lead_creates_a_draft(client, team):
    client.force_login(team["marketing"])
    response = client.get(reverse("agreement_create"))
    assert response.status_code == 200
    assert "Beispiel AG" in response.text

    response = client.post(
        reverse("agreement_create"),
        {"start_date": "01.01.2027", "end_date": "31.12.2027", "geographic_unit": "Romandie"},
    )
    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == step_url(agreement, "parteien")
    assert agreement.organisation == team["organisation"]
    assert agreement.start_date == datetime.date(2027, 1, 1)
    assert agreement.marketing_representative == team["marketing"]
    assert agreement.created_by == team["marketing"]
    assert agreement.status == "draft"


def test_management_may_not_create_or_edit(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["management"])
    assert client.get(reverse("agreement_create")).status_code == 403
    assert client.get(step_url(agreement, "grunddaten")).status_code == 403
    response = post_step(client, agreement, "grunddaten", {"geographic_unit": "X"}, loaded="")
    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.geographic_unit == ""
    # ... but reads the agreement.
    assert client.get(reverse("agreement_detail", args=[agreement.pk])).status_code == 200


def test_other_organisations_get_404_on_every_step(client, team):
    agreement = make_agreement(team["organisation"])
    outsider = make_member(make_organisation(), Role.MARKETING)
    client.force_login(outsider)
    for step in STEPS:
        assert client.get(step_url(agreement, step.slug)).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client, team):
    agreement = make_agreement(team["organisation"])
    response = client.get(step_url(agreement, "grunddaten"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_each_save_is_stored_and_survives_a_new_session(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["sales"])
    response = post_step(client, agreement, "ziele", {
        "sql_target": "1’250", "sql_period": "quarter", "response_time_hours": "24",
        "report_back": "both", "metric_sql": "on",
    })  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == step_url(agreement, "verantwortung")

    client.logout()
    client.force_login(team["marketing"])
    response = client.get(step_url(agreement, "ziele"))
    assert 'value="1’250"' in response.text
    agreement.refresh_from_db()
    assert agreement.sql_target == 1250
    assert agreement.updated_by == team["sales"]
    assert agreement.revision == 2


def test_step_list_shows_completeness_and_jumps_save_first(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "verantwortung", {
        "marketing_responsible": "Lena Muster", "marketing_deputy": "Ali Frei",
        "sales_responsible": "Tom Test", "sales_deputy": "Eva Graf",
        "goto": "funnel",
    })  # fmt: skip
    assert response["Location"] == step_url(agreement, "funnel")
    response = client.get(step_url(agreement, "funnel"))
    assert response.status_code == 200
    nav = response.text[response.text.index("wizard-steps") :]
    verantwortung = nav[nav.index("Verantwortung") :]
    assert "vollständig" in verantwortung[:400]


def test_invalid_input_is_refused_in_german_and_nothing_typed_is_lost(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "grunddaten", {
        "start_date": "2027-12-31", "end_date": "2027-01-01",
        "geographic_unit": "Tessin", "group_subgroup": "Gruppe Süd",
    })  # fmt: skip
    assert response.status_code == 422
    assert "Bitte korrigieren Sie die markierten Angaben" in response.text
    assert "Das Enddatum muss nach dem Startdatum liegen." in response.text
    assert 'value="Tessin"' in response.text and 'value="Gruppe Süd"' in response.text
    agreement.refresh_from_db()
    assert agreement.geographic_unit == ""


def test_back_on_the_first_step_saves_and_stays(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(
        client, agreement, "grunddaten", {"geographic_unit": "Tessin"}, go="previous"
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(agreement, "grunddaten")
    agreement.refresh_from_db()
    assert agreement.geographic_unit == "Tessin"


@pytest.mark.parametrize(
    ("slug", "data", "message"),
    [
        ("grunddaten", {"start_date": "31.31.2027"}, "Bitte ein gültiges Datum eingeben"),
        ("ziele", {"sql_target": "viele"}, "Bitte eine ganze Zahl eingeben"),
        # Beyond int()'s 4'300 digits: refused by its length before any conversion.
        ("ziele", {"sql_target": "9" * 5000}, "Die Eingabe ist zu lang für eine Zahl"),
        ("funnel", {"funnel_visits": "1" * 5000}, "Die Eingabe ist zu lang für eine Zahl"),
        ("ziele", {"response_time_hours": "0"}, "Bitte eine Zahl ab 1 eingeben"),
        ("funnel", {"funnel_visits": "-5"}, "Bitte eine Zahl ab 0 eingeben"),
        ("definitionen", {"rate_x_stage": "mql", "rate_y_stage": "mql"}, "verschiedene Stufen"),
        ("reporting", {"reporting_channel": "other"}, "Bitte das Tool nennen."),
    ],
)
def test_every_step_validates_with_a_german_message(client, team, slug, data, message):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["sales"])
    if slug == "definitionen":
        data = {**data, "definitions-TOTAL_FORMS": "0", "definitions-INITIAL_FORMS": "0"}
    response = post_step(client, agreement, slug, data)
    assert response.status_code == 422
    assert message in response.text


def test_renewal_before_start_is_refused_across_steps(client, team):
    agreement = make_agreement(team["organisation"], start_date=datetime.date(2027, 1, 1))
    client.force_login(team["sales"])
    response = post_step(client, agreement, "reporting", {"renewal_date": "30.06.2026"})
    assert response.status_code == 422
    assert "Das Erneuerungsdatum muss nach dem Startdatum liegen." in response.text


RESPONSIBILITIES = (
    "marketing_responsible",
    "marketing_deputy",
    "sales_responsible",
    "sales_deputy",
)


def responsibilities(agreement, **changes) -> dict:
    """The Verantwortung step's fields as its page shows them, with ``changes`` typed."""
    agreement.refresh_from_db()
    return {name: changes.get(name, getattr(agreement, name)) for name in RESPONSIBILITIES}


def loaded_before_sales_saves(client, team, agreement, slug, data) -> str:
    """Marketing loads the step; then Sales saves ``data`` in it. Marketing's page, stale."""
    client.force_login(team["marketing"])
    marketing_page = loaded_on_page(client, agreement, slug)
    client.force_login(team["sales"])
    assert post_step(client, agreement, slug, data).status_code == 302
    client.force_login(team["marketing"])
    return marketing_page


def test_co_authors_on_different_steps_both_save(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["sales"])
    sales_page = loaded_on_page(client, agreement, "verantwortung")
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "funnel", {"funnel_visits": "34.000"})
    assert response.status_code == 302

    client.force_login(team["sales"])
    response = post_step(
        client, agreement, "verantwortung",
        responsibilities(agreement, sales_responsible="Tom Test"), loaded=sales_page,
    )  # fmt: skip

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.funnel_visits, agreement.sales_responsible) == (34000, "Tom Test")


def test_co_authors_on_different_fields_of_one_step_both_save(client, team):
    agreement = make_agreement(team["organisation"])
    marketing_page = loaded_before_sales_saves(
        client, team, agreement, "verantwortung", {"sales_responsible": "Tom Test"}
    )
    response = post_step(
        client, agreement, "verantwortung",
        # The page loaded before still shows sales_responsible empty: not changed by Lena.
        {"marketing_responsible": "Lena Muster", "sales_responsible": ""}, loaded=marketing_page,
    )  # fmt: skip

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.marketing_responsible == "Lena Muster"
    assert agreement.sales_responsible == "Tom Test"  # kept, not overwritten with ""


def test_one_person_in_two_tabs_loses_nothing(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    first_tab = loaded_on_page(client, agreement, "grunddaten")
    post_step(client, agreement, "grunddaten", {"geographic_unit": "Romandie"})  # second tab
    response = post_step(
        client, agreement, "grunddaten", {"group_subgroup": "Handel", "geographic_unit": ""},
        loaded=first_tab,
    )  # fmt: skip
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.geographic_unit, agreement.group_subgroup) == ("Romandie", "Handel")


def test_the_same_field_changed_by_both_shows_both_values_and_saves_nothing(client, team):
    agreement = make_agreement(team["organisation"])
    marketing_page = loaded_before_sales_saves(
        client, team, agreement, "verantwortung", {"sales_responsible": "Tom Test"}
    )
    typed = {"sales_responsible": "Jemand Anders", "marketing_responsible": "Lena Muster"}
    response = post_step(client, agreement, "verantwortung", typed, loaded=marketing_page)

    assert response.status_code == 409
    page = response.text
    assert "Tom Test hat das SLA am" in page
    conflict = page[page.index('id="conflict-sales_responsible"') :]
    conflict = conflict[: conflict.index("</fieldset>")]
    assert "Jemand Anders" in conflict and "Tom Test" in conflict  # side by side
    assert 'id="conflict-marketing_responsible"' not in page  # only Lena changed that one
    assert 'value="Lena Muster"' in page and 'value="Jemand Anders"' in page  # nothing lost
    agreement.refresh_from_db()
    assert (agreement.sales_responsible, agreement.marketing_responsible) == ("Tom Test", "")


@pytest.mark.parametrize(("choice", "expected"), [("theirs", "Tom Test"), ("mine", "Jemand")])
def test_after_a_conflict_the_author_chooses_per_field(client, team, choice, expected):
    agreement = make_agreement(team["organisation"])
    marketing_page = loaded_before_sales_saves(
        client, team, agreement, "verantwortung", {"sales_responsible": "Tom Test"}
    )
    typed = {"sales_responsible": "Jemand", "marketing_responsible": "Lena Muster"}
    conflict = post_step(client, agreement, "verantwortung", typed, loaded=marketing_page)
    seen = re.search(r'name="seen-sales_responsible" value="([^"]*)"', conflict.text)[1]
    loaded = html.unescape(re.search(r'name="loaded" value="([^"]*)"', conflict.text)[1])

    # Saving again without a choice asks again.
    again = post_step(client, agreement, "verantwortung", typed, loaded=loaded)
    assert again.status_code == 409
    response = post_step(
        client, agreement, "verantwortung",
        {**typed, "resolve-sales_responsible": choice, "seen-sales_responsible": seen},
        loaded=loaded,
    )  # fmt: skip

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.sales_responsible == expected
    assert agreement.marketing_responsible == "Lena Muster"


def test_a_choice_against_a_value_changed_once_more_asks_again(client, team):
    agreement = make_agreement(team["organisation"])
    marketing_page = loaded_before_sales_saves(
        client, team, agreement, "verantwortung", {"sales_responsible": "Tom Test"}
    )
    typed = {"sales_responsible": "Jemand"}
    conflict = post_step(client, agreement, "verantwortung", typed, loaded=marketing_page)
    seen = re.search(r'name="seen-sales_responsible" value="([^"]*)"', conflict.text)[1]
    client.force_login(team["sales"])
    post_step(client, agreement, "verantwortung", {"sales_responsible": "Tom Neu"})

    client.force_login(team["marketing"])
    response = post_step(
        client, agreement, "verantwortung",
        {**typed, "resolve-sales_responsible": "mine", "seen-sales_responsible": seen},
        loaded=marketing_page,
    )  # fmt: skip

    assert response.status_code == 409
    assert "Tom Neu" in response.text
    agreement.refresh_from_db()
    assert agreement.sales_responsible == "Tom Neu"


def test_further_definitions_changed_by_both_are_a_conflict(client, team):
    agreement = make_agreement(team["organisation"])
    FurtherDefinition.objects.create(agreement=agreement, term="Churn", text="alt", position=1)
    definition = agreement.further_definitions.get()
    client.force_login(team["marketing"])
    marketing_page = loaded_on_page(client, agreement, "definitionen")
    rows = {
        "definitions-INITIAL_FORMS": "1", "definitions-TOTAL_FORMS": "1",
        "definitions-0-id": definition.pk, "definitions-0-term": "Churn",
    }  # fmt: skip
    client.force_login(team["sales"])
    post_step(client, agreement, "definitionen", {**rows, "definitions-0-text": "von Sales"})

    client.force_login(team["marketing"])
    response = post_step(
        client, agreement, "definitionen",
        {**rows, "definitions-0-text": "von Marketing", "definition_visits": "Sitzungen"},
        loaded=marketing_page,
    )  # fmt: skip

    assert response.status_code == 409
    assert "Churn: von Sales" in response.text and "Churn: von Marketing" in response.text
    agreement.refresh_from_db()
    assert agreement.definition_visits == ""
    assert agreement.further_definitions.get().text == "von Sales"


def test_a_save_that_changes_nothing_writes_nothing(client, team):
    agreement = make_agreement(team["organisation"], geographic_unit="Romandie")
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "grunddaten", {"geographic_unit": "Romandie"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.revision == 1 and agreement.updated_by is None
    assert not agreement.audit_events.exists()


def test_a_cross_step_rule_is_checked_against_what_others_stored_meanwhile(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["sales"])
    sales_page = loaded_on_page(client, agreement, "reporting")
    client.force_login(team["marketing"])
    post_step(client, agreement, "grunddaten", {"start_date": "01.01.2028"})

    client.force_login(team["sales"])
    response = post_step(
        client, agreement, "reporting", {"renewal_date": "01.12.2027"}, loaded=sales_page
    )

    assert response.status_code == 422
    assert "Das Erneuerungsdatum muss nach dem Startdatum liegen." in response.text
    assert 'value="01.12.2027"' in response.text
    agreement.refresh_from_db()
    assert agreement.renewal_date is None


def test_naming_a_representative_fills_their_responsibility_if_empty(client, team):
    agreement = make_agreement(team["organisation"], marketing_responsible="Lena Muster")
    client.force_login(team["marketing"])
    post_step(client, agreement, "parteien", {
        "marketing_function": "Inbound Marketing", "marketing_representative": team["marketing"].pk,
        "sales_function": "Inbound Sales", "sales_representative": team["sales"].pk,
    })  # fmt: skip
    agreement.refresh_from_db()
    assert agreement.sales_responsible == "Tom Test"
    assert agreement.marketing_responsible == "Lena Muster"  # written by an author: kept


def test_further_definitions_are_added_ordered_and_removed(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    management = {"definitions-INITIAL_FORMS": "0", "definitions-TOTAL_FORMS": "3"}
    response = post_step(client, agreement, "definitionen", {
        **management,
        "definitions-0-term": "Target Accounts", "definitions-0-text": "Zielkunden",
        "definitions-1-term": "", "definitions-1-text": "",
        "definitions-2-term": "Churn", "definitions-2-text": "verlorene Kunden",
    })  # fmt: skip
    assert response.status_code == 302
    assert list(agreement.further_definitions.values_list("term", "position")) == [
        ("Target Accounts", 1),
        ("Churn", 2),
    ]
    first, second = agreement.further_definitions.all()
    response = post_step(client, agreement, "definitionen", {
        "definitions-INITIAL_FORMS": "2", "definitions-TOTAL_FORMS": "2",
        "definitions-0-id": first.pk, "definitions-0-term": first.term,
        "definitions-0-text": first.text, "definitions-0-DELETE": "on",
        "definitions-1-id": second.pk, "definitions-1-term": "Churn",
        "definitions-1-text": "verlorene Kunden",
    })  # fmt: skip
    assert response.status_code == 302
    assert list(FurtherDefinition.objects.values_list("term", "position")) == [("Churn", 1)]


def test_a_definition_needs_its_text(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "definitionen", {
        "definitions-INITIAL_FORMS": "0", "definitions-TOTAL_FORMS": "1",
        "definitions-0-term": "Churn", "definitions-0-text": "",
    })  # fmt: skip
    assert response.status_code == 422
    assert 'value="Churn"' in response.text
    assert not FurtherDefinition.objects.exists()


def test_representatives_are_chosen_among_members_of_the_right_role(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = client.get(step_url(agreement, "parteien"))
    form = response.context["form"]
    assert list(form.fields["marketing_representative"].queryset) == [team["marketing"]]
    assert list(form.fields["sales_representative"].queryset) == [team["sales"]]
    response = post_step(client, agreement, "parteien", {
        "marketing_function": "Inbound Marketing",
        "marketing_representative": team["sales"].pk,
    })  # fmt: skip
    assert response.status_code == 422


def test_funnel_step_shows_the_derived_conversion_rates(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    post_step(client, agreement, "funnel", {
        "funnel_visits": "34’000", "funnel_target_accounts": "450", "funnel_mql": "570",
        "funnel_prospects": "290", "funnel_sql": "260", "funnel_customers": "200",
    }, go="stay")  # fmt: skip
    response = client.get(step_url(agreement, "funnel"))
    assert "1,27\u00a0:\u00a01" in response.text
    assert 'value="34’000"' in response.text


def test_review_lists_what_is_missing_with_links_to_its_step(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = client.get(step_url(agreement, "pruefen"))
    assert response.status_code == 200
    assert f'href="{step_url(agreement, "funnel")}">Funnel ATTRACT Visits</a>' in response.text
    assert f'href="{step_url(agreement, "grunddaten")}">Startdatum</a>' in response.text


def test_review_of_the_complete_demo_lists_nothing_missing(client, demo_agreement):
    client.login(username="sales", password="demo")
    response = client.get(step_url(demo_agreement, "pruefen"))
    assert response.status_code == 200
    assert "Das SLA ist vollständig" in response.text
    assert 'id="missing"' not in response.text


def test_saving_a_step_never_touches_other_steps(client, team):
    agreement = make_agreement(team["organisation"], geographic_unit="Romandie")
    stale_copy = Agreement.objects.get(pk=agreement.pk)
    Agreement.objects.filter(pk=agreement.pk).update(group_subgroup="Gruppe Nord")
    client.force_login(team["marketing"])
    post_step(client, stale_copy, "funnel", {"funnel_visits": "10"})
    agreement.refresh_from_db()
    assert agreement.group_subgroup == "Gruppe Nord"
    assert agreement.funnel_visits == 10
    assert SlaDocument(agreement)["geographic_unit"].text == "Romandie"


def test_framework_document_is_uploaded_in_the_rahmen_step(client, team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    upload = SimpleUploadedFile("Playbook 2028.pdf", make_pdf(), content_type="application/pdf")
    response = post_step(client, agreement, "rahmen", {
        "system_name": "Playbook", "framework_document": upload,
    })  # fmt: skip
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.framework_document_name == "Playbook 2028.pdf"
    assert "Playbook 2028" not in agreement.framework_document.name
    assert (tmp_path / agreement.framework_document.name).read_bytes().startswith(b"%PDF-")
    response = client.get(step_url(agreement, "rahmen"))
    assert reverse("agreement_framework_document", args=[agreement.pk]) in response.text


def test_an_executable_renamed_to_pdf_is_refused_and_the_rest_kept(
    client, team, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    fake = SimpleUploadedFile("system.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 200)
    response = post_step(client, agreement, "rahmen", {
        "system_name": "Playbook 2028", "system_created_on": "01.11.2027",
        "framework_document": fake,
    })  # fmt: skip
    assert response.status_code == 422
    assert "Die Datei ist kein gültiges PDF." in response.text
    assert 'value="Playbook 2028"' in response.text and 'value="01.11.2027"' in response.text
    agreement.refresh_from_db()
    assert not agreement.framework_document and agreement.system_name == ""
    assert not any(tmp_path.rglob("*.pdf"))


def test_directional_overrides_are_removed_so_the_text_reads_as_stored(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "verantwortung", {
        "sales_deputy": "Rechnung\u202efdp.exe\u202c", "marketing_deputy": "Ali \u2067Frei\u2069",
    })  # fmt: skip
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.sales_deputy == "Rechnungfdp.exe"
    assert agreement.marketing_deputy == "Ali Frei"


@pytest.mark.parametrize("date", ["01.01.0001", "31.12.9999", "01.01.1999"])
def test_dates_far_out_are_refused_in_german(client, team, date):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    response = post_step(client, agreement, "grunddaten", {"start_date": date})
    assert response.status_code == 422
    assert "Bitte ein Datum zwischen 2000 und 2099 eingeben." in response.text
    agreement.refresh_from_db()
    assert agreement.start_date is None


def test_every_select_of_every_step_offers_one_empty_choice_label(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    for step in STEPS[:-1]:
        page = client.get(step_url(agreement, step.slug)).text
        assert "---------" not in page, step.slug
        selects = re.findall(r"<select[^>]*>\s*<option[^>]*>([^<]*)</option>", page)
        assert all(label == "– bitte wählen –" for label in selects), (step.slug, selects)


def test_the_help_text_of_the_further_definitions_is_shown_literally(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    page = client.get(step_url(agreement, "definitionen")).text
    assert "Im SLA: «Als &lt;Begriff&gt; gelten &lt;Definition&gt;.» Optional." in page


def test_a_new_sla_names_its_organisation_once(client, team):
    client.force_login(team["marketing"])
    page = client.get(reverse("agreement_create")).text
    firma = '<span class="text-body-secondary">Firma:</span>'
    assert firma in page and "Beispiel AG" in page  # one organisation: named, no choice
    assert 'name="organisation"' not in page
    Membership.objects.create(
        user=team["marketing"], organisation=make_organisation("Zweite AG"), role=Role.MARKETING
    )
    page = client.get(reverse("agreement_create")).text
    assert 'name="organisation"' in page
    assert firma not in page  # the select says it; no line that could contradict it


def test_every_step_says_where_it_stands(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    assert "Schritt 1 von 9" in client.get(reverse("agreement_create")).text
    for number, step in enumerate(STEPS, start=1):
        page = client.get(step_url(agreement, step.slug)).text
        assert f'id="step-position">Schritt {number} von 9' in page, step.slug


def test_the_preview_renders_the_typed_values_and_saves_nothing(client, team):
    agreement = make_agreement(team["organisation"], geographic_unit="Romandie")
    client.force_login(team["marketing"])
    response = client.post(
        reverse("agreement_step_preview", args=[agreement.pk, "grunddaten"]),
        {"geographic_unit": "Tessin", "group_subgroup": "", "start_date": "31.31.2027"},
    )
    assert response.status_code == 200
    assert "Geschäftseinheit Tessin" in response.text
    assert "[START_DATUM]" in response.text  # refused by the form: shown as still missing
    assert "no-store" in response["Cache-Control"]
    agreement.refresh_from_db()
    assert agreement.geographic_unit == "Romandie" and agreement.revision == 1
