"""The admin: drafts are editable, submitted agreements frozen, evidence read-only."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse

from agreements.enums import AgreementStatus, Party, Role
from agreements.models import Agreement, AuditEvent, Membership, Organisation, Signature
from agreements.team.models import OrganisationEvent, TeamAction
from tests.factories import make_user, sign_agreement, submit_agreement


@pytest.fixture
def admin_client_demo(client, demo_agreement):
    client.login(username="admin", password="demo")
    return client


def change_url(agreement):
    return reverse("admin:agreements_agreement_change", args=[agreement.pk])


def test_a_draft_can_be_edited_in_the_admin(admin_client_demo, demo_agreement):
    response = admin_client_demo.get(change_url(demo_agreement))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is True


def test_a_submitted_agreement_is_read_only_in_the_admin(admin_client_demo, demo_agreement):
    agreement = submit_agreement(demo_agreement)
    before = agreement.content_hash()

    page = admin_client_demo.get(change_url(agreement))
    change = admin_client_demo.post(change_url(agreement), {"geographic_unit": "Romandie"})
    delete = admin_client_demo.post(
        reverse("admin:agreements_agreement_delete", args=[agreement.pk]), {"post": "yes"}
    )

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert page.context["inline_admin_formsets"][0].has_change_permission is False
    assert (change.status_code, delete.status_code) == (403, 403)
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.status == AgreementStatus.AWAITING_SIGNATURES
    assert agreement.content_hash() == before


def test_audit_events_and_signatures_are_read_only_in_the_admin(admin_client_demo, demo_agreement):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    event = AuditEvent.objects.filter(agreement=demo_agreement).first()
    signature = Signature.objects.get(agreement=demo_agreement)

    for model, obj in (("auditevent", event), ("signature", signature)):
        changelist = admin_client_demo.get(reverse(f"admin:agreements_{model}_changelist"))
        detail = admin_client_demo.get(reverse(f"admin:agreements_{model}_change", args=[obj.pk]))
        add = admin_client_demo.get(reverse(f"admin:agreements_{model}_add"))
        change = admin_client_demo.post(
            reverse(f"admin:agreements_{model}_change", args=[obj.pk]), {"typed_name": "X"}
        )
        delete = admin_client_demo.post(
            reverse(f"admin:agreements_{model}_delete", args=[obj.pk]), {"post": "yes"}
        )
        assert (changelist.status_code, detail.status_code) == (200, 200)
        assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)

    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert Signature.objects.get(pk=signature.pk).typed_name == "Anna Keller"


def test_every_column_of_the_portals_lists_has_a_name_of_its_own():
    """No header is a field's code name ("USER", "CREATED AT"): each has a translated label."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "agreements":
            continue
        for name in model_admin.list_display:
            if name == "__str__":
                continue
            label = str(label_for_field(name, model, model_admin))
            assert label != name.replace("_", " "), f"{model.__name__}.{name}"


@pytest.mark.parametrize(
    ("language", "headers"),
    [("de-ch", ["Person", "Organisation", "Rolle"]), ("en", ["Person", "Organisation", "Role"])],
)
def test_the_membership_list_names_its_columns(admin_client_demo, language, headers):
    response = admin_client_demo.get(
        reverse("admin:agreements_membership_changelist"), HTTP_ACCEPT_LANGUAGE=language
    )
    columns = re.findall(
        r'<th scope="col" class="[^"]*column-(\w+)[^"]*">.*?<a [^>]*>([^<]+)</a>',
        response.text,
        re.S,
    )
    assert [label for _, label in columns[:3]] == headers


@pytest.mark.parametrize("name", ["Muster AG\r\nBcc: alle@example.org", "Muster\nAG", "Muster\tAG"])
def test_an_organisation_name_over_several_lines_is_refused(admin_client_demo, name):
    # The name goes into every mail subject of the organisation; a line break there made
    # each of its mails fail while the page said they were sent.
    response = admin_client_demo.post(
        reverse("admin:agreements_organisation_add"), {"name": name, **EMPTY_MEMBERSHIPS}
    )

    assert response.status_code == 200
    assert "Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben" in response.text
    assert not Organisation.objects.filter(name=name).exists()


EMPTY_MEMBERSHIPS = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
}


# --- Memberships edited in the admin keep the team's rules (agreements.team.admin) ------


def memberships_formset(organisation, **rows) -> dict:
    """The organisation page's POST: its fields and every membership row as shown, with
    ``rows`` (username -> changed fields, ``DELETE`` among them) applied."""
    data = {"name": organisation.name, "memberships-INITIAL_FORMS": "0"}
    memberships = list(organisation.memberships.select_related("user").order_by("pk"))
    for index, membership in enumerate(memberships):
        row = {
            "id": membership.pk,
            "organisation": organisation.pk,
            "user": membership.user_id,
            "role": membership.role,
            "job_title": membership.job_title,
            "is_admin": "on" if membership.is_admin else "",
            **rows.get(membership.user.username, {}),
        }
        data |= {f"memberships-{index}-{name}": value for name, value in row.items() if value}
    data["memberships-TOTAL_FORMS"] = data["memberships-INITIAL_FORMS"] = str(len(memberships))
    return data


def membership_of(username) -> Membership:
    return Membership.objects.get(user__username=username)


def test_the_admin_refuses_to_take_the_last_administrator_away(admin_client_demo):
    management = membership_of("management")
    url = reverse("admin:agreements_membership_change", args=[management.pk])

    response = admin_client_demo.post(
        url,
        {
            "user": management.user_id,
            "organisation": management.organisation_id,
            "role": management.role,
            "job_title": management.job_title,
        },  # "is_admin" unticked
    )
    removed = admin_client_demo.post(
        reverse("admin:agreements_membership_delete", args=[management.pk]), {"post": "yes"}
    )

    assert response.status_code == 200
    assert "ist die einzige Administration der Muster AG" in response.text
    assert removed.status_code == 302 and removed.url == url
    assert membership_of("management").is_admin
    changelist = admin_client_demo.get(reverse("admin:agreements_membership_changelist"))
    assert "delete_selected" not in changelist.text


def test_the_admin_keeps_the_representative_of_an_sla_awaiting_signatures(
    admin_client_demo, demo_agreement
):
    submit_agreement(demo_agreement)
    organisation = demo_agreement.organisation
    url = reverse("admin:agreements_organisation_change", args=[organisation.pk])

    removed = admin_client_demo.post(url, memberships_formset(organisation, sales={"DELETE": "on"}))
    demoted = admin_client_demo.post(
        url, memberships_formset(organisation, sales={"role": Role.MANAGEMENT})
    )

    assert removed.status_code == demoted.status_code == 200
    assert "vertritt Sales" in removed.text and "vertritt Sales" in demoted.text
    assert membership_of("sales").role == Role.SALES


def test_the_admin_hands_the_administration_over_in_one_save_and_logs_it(admin_client_demo):
    organisation = Organisation.objects.get(name="Muster AG")
    url = reverse("admin:agreements_organisation_change", args=[organisation.pk])

    response = admin_client_demo.post(
        url,
        memberships_formset(
            organisation, management={"is_admin": ""}, marketing={"is_admin": "on"}
        ),
    )

    assert response.status_code == 302
    assert membership_of("marketing").is_admin and not membership_of("management").is_admin
    logged = OrganisationEvent.objects.filter(
        organisation=organisation, action=TeamAction.MEMBER_CHANGED, actor__username="admin"
    )
    assert sorted(event.subject_name for event in logged) == ["Anna Keller", "Claudia Meier"]
    # Unticking the new one again in the same way is refused: it is the last one now.
    refused = admin_client_demo.post(
        url, memberships_formset(organisation, marketing={"is_admin": ""})
    )
    assert "ist die einzige Administration der Muster AG" in refused.text


def test_a_person_added_in_the_admin_is_in_the_organisations_log(admin_client_demo):
    organisation = Organisation.objects.get(name="Muster AG")
    lea = make_user("lea", first_name="Lea", last_name="Frei")
    data = memberships_formset(organisation)
    new = int(data["memberships-TOTAL_FORMS"])
    data |= {
        f"memberships-{new}-organisation": organisation.pk,
        f"memberships-{new}-user": lea.pk,
        f"memberships-{new}-role": Role.MARKETING,
        f"memberships-{new}-job_title": " Content ",
        "memberships-TOTAL_FORMS": str(new + 1),
    }

    response = admin_client_demo.post(
        reverse("admin:agreements_organisation_change", args=[organisation.pk]), data
    )

    assert response.status_code == 302
    assert membership_of("lea").job_title == "Content"
    event = OrganisationEvent.objects.get(organisation=organisation, action=TeamAction.MEMBER_ADDED)
    assert (event.actor_name, event.subject_name) == ("admin@muster.example", "Lea Frei")
    assert event.changes == ["Rolle: Marketing"]
