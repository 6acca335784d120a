"""The admin: drafts are editable, submitted agreements frozen, evidence read-only."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse

from agreements.enums import AgreementStatus, Party
from agreements.models import Agreement, AuditEvent, Organisation, Signature
from tests.factories import sign_agreement, submit_agreement


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
