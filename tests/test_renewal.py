"""Renewal: a signed SLA starts next period's draft; signing it supersedes the old one.

Covers ``agreements.workflow.agreement_renew`` (and the superseding in the completion),
``renewal_dates``, ``agreements.diff.agreement_diff`` and the pages that show the diff.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.audit import audit_verify
from agreements.diff import agreement_diff, diff_fields
from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.models import Agreement, FurtherDefinition, Membership
from agreements.snapshot import NON_CONTENT_FIELDS
from agreements.uploads import framework_document_replace
from agreements.workflow import WorkflowError, agreement_renew
from tests.factories import fresh, make_pdf, make_request_meta, sign_agreement, submit_agreement

User = get_user_model()
MOVED_DATES = {"start_date", "end_date", "renewal_date"}


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def user(username):
    return User.objects.get(username=username)


def renew(agreement, username="marketing") -> Agreement:
    return agreement_renew(agreement=agreement, user=user(username), meta=make_request_meta())


def sign_both(agreement) -> Agreement:
    submit_agreement(fresh(agreement))
    for party in Party:
        sign_agreement(agreement, party)
    return fresh(agreement)


def actions(agreement) -> list[str]:
    return list(agreement.audit_events.order_by("sequence").values_list("action", flat=True))


@pytest.fixture
def signed(demo_agreement):
    """The complete 2027 demo SLA with a framework document and two further definitions,
    signed by both parties."""
    framework_document_replace(
        agreement=demo_agreement,
        uploaded_file=SimpleUploadedFile("Playbook 2027.pdf", make_pdf(), "application/pdf"),
    )
    FurtherDefinition.objects.create(
        agreement=demo_agreement, position=2, term="Demo", text="ein Termin mit Vorführung"
    )
    return sign_both(demo_agreement)


# --- The new draft ---------------------------------------------------------------------


def test_renewal_copies_every_content_field_and_moves_the_period(signed):
    successor = fresh(renew(signed))

    # Every field the parties sign, found programmatically: a field added to Agreement
    # later is covered without touching this test.
    content_fields = [
        f for f in Agreement._meta.concrete_fields if f.name not in NON_CONTENT_FIELDS
    ]
    assert len(content_fields) > 40
    for field in content_fields:
        if field.name in MOVED_DATES:
            continue
        assert getattr(successor, field.attname) == getattr(signed, field.attname), field.name
    assert successor.organisation_id == signed.organisation_id
    assert successor.framework_document.name == signed.framework_document.name
    assert successor.framework_document_name == "Playbook 2027.pdf"
    assert [(x.position, x.term, x.text) for x in successor.further_definitions.all()] == [
        (x.position, x.term, x.text) for x in signed.further_definitions.all()
    ]
    assert (successor.start_date, successor.end_date, successor.renewal_date) == (
        d("2028-01-01"),
        d("2028-12-31"),
        d("2028-12-01"),
    )


def test_renewal_is_an_editable_draft_without_signatures_linked_to_its_predecessor(signed):
    successor = fresh(renew(signed))

    assert successor.status == AgreementStatus.DRAFT
    assert successor.renews == signed
    assert fresh(signed).renewed_by == successor
    assert not successor.signatures.exists()
    assert successor.content_snapshot is None
    assert successor.content_sha256 == ""
    assert successor.submitted_at is None and successor.completed_at is None
    assert not successor.signed_pdf and successor.signed_pdf_sha256 == ""
    assert successor.created_by == user("marketing")
    # The predecessor stays in force until the renewal is signed.
    assert fresh(signed).status == AgreementStatus.SIGNED
    assert actions(successor) == [AuditAction.CREATED]
    assert successor.audit_events.get().details == {"renews_id": signed.pk}
    assert actions(signed)[-1] == AuditAction.RENEWED
    assert audit_verify(signed).intact
    assert audit_verify(successor).intact


def test_renewal_tells_the_other_representative(signed, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        successor = renew(signed, "sales")

    assert [m.to for m in mail.outbox] == [["marketing@muster.example"]]
    assert "Marco Brunner hat die Leistungsvereinbarung der Muster AG vom 01.01.2027" in (
        mail.outbox[0].body
    )
    assert reverse("agreement_detail", args=[successor.pk]) in mail.outbox[0].body


def test_renewal_drops_a_representative_who_no_longer_holds_the_role(signed):
    Membership.objects.filter(user__username="sales").update(role=Role.MANAGEMENT)

    successor = renew(signed)

    assert successor.marketing_representative == user("marketing")
    assert successor.sales_representative is None


def test_successor_can_be_edited_while_the_predecessor_keeps_its_file(signed):
    """The shared framework document survives a new upload in the renewal."""
    successor = renew(signed)
    shared = signed.framework_document.name
    framework_document_replace(
        agreement=successor,
        uploaded_file=SimpleUploadedFile("Playbook 2028.pdf", make_pdf(2), "application/pdf"),
    )

    assert signed.framework_document.storage.exists(shared)
    assert fresh(successor).framework_document.name != shared


# --- Refusals ---------------------------------------------------------------------------


def test_draft_and_awaiting_agreements_cannot_be_renewed(demo_agreement):
    with pytest.raises(WorkflowError, match="Nur eine unterzeichnete Vereinbarung"):
        renew(demo_agreement)
    submit_agreement(demo_agreement)
    with pytest.raises(WorkflowError, match="Nur eine unterzeichnete Vereinbarung"):
        renew(demo_agreement)

    assert not Agreement.objects.filter(renews=demo_agreement).exists()


def test_management_cannot_renew(signed_demo):
    with pytest.raises(WorkflowError, match="Nur Mitglieder von Marketing oder Sales"):
        renew(signed_demo, "management")

    assert not Agreement.objects.filter(renews=signed_demo).exists()
    assert AuditAction.RENEWED not in actions(signed_demo)


def test_second_renewal_is_refused(signed_demo):
    first = renew(signed_demo)

    with pytest.raises(WorkflowError, match="bereits erneuert"):
        renew(signed_demo, "sales")

    assert list(Agreement.objects.filter(renews=signed_demo)) == [first]
    assert actions(signed_demo).count(AuditAction.RENEWED) == 1


# --- Signing the renewal ----------------------------------------------------------------


def test_signing_the_renewal_supersedes_the_predecessor(signed_demo):
    successor = renew(signed_demo)

    successor = sign_both(successor)

    predecessor = fresh(signed_demo)
    assert successor.status == AgreementStatus.SIGNED
    assert predecessor.status == AgreementStatus.SUPERSEDED
    event = predecessor.audit_events.order_by("sequence").last()
    assert event.action == AuditAction.SUPERSEDED
    assert event.details == {"successor_id": successor.pk}
    assert audit_verify(predecessor).intact, audit_verify(predecessor).message
    assert audit_verify(successor).intact, audit_verify(successor).message
    # Superseded is final: no second renewal of it.
    with pytest.raises(WorkflowError):
        renew(predecessor)


def test_a_renewal_awaiting_signatures_leaves_the_predecessor_signed(signed_demo):
    successor = renew(signed_demo)
    submit_agreement(successor)
    sign_agreement(successor, Party.MARKETING)

    assert fresh(signed_demo).status == AgreementStatus.SIGNED


# --- What changed -------------------------------------------------------------------------


def test_diff_lists_exactly_the_changed_fields(signed_demo):
    successor = renew(signed_demo)
    successor.sql_target = 70
    successor.sql_period = "month"
    successor.save()

    changes = agreement_diff(fresh(signed_demo), fresh(successor))

    assert [(c.label, c.old_display, c.new_display) for c in changes] == [
        ("Gültig ab", "01.01.2026", "01.01.2027"),
        ("Gültig bis", "31.12.2026", "31.12.2027"),
        ("Anzahl SQL", "55", "70"),
        ("Zeitraum", "Quartal", "Monat"),
        ("Erneuerung per", "01.12.2026", "01.12.2027"),
    ]


def test_diff_of_an_unchanged_renewal_is_only_the_moved_dates(signed_demo):
    successor = renew(signed_demo)

    labels = {c.label for c in agreement_diff(fresh(signed_demo), fresh(successor))}

    assert labels == {str(Agreement._meta.get_field(name).verbose_name) for name in MOVED_DATES}


def test_diff_formats_numbers_users_and_lists_further_definitions(signed_demo):
    successor = renew(signed_demo)
    successor.funnel_visits = 34_000
    successor.metric_revenue = False
    successor.marketing_representative = None
    successor.save()
    successor.further_definitions.update(text="neu definiert")
    FurtherDefinition.objects.create(agreement=successor, position=2, term="Demo", text="Termin")

    changes = {
        c.label: (c.old_display, c.new_display)
        for c in agreement_diff(fresh(signed_demo), fresh(successor))
    }

    assert changes["ATTRACT – Visits"] == ("28’500", "34’000")
    assert changes["Umsatz"] == ("ja", "nein")
    assert changes["Vertretung Marketing"] == ("Anna Keller", "–")
    assert changes["Weitere Definition «Target Accounts»"][1] == "neu definiert"
    assert changes["Weitere Definition «Demo»"] == ("–", "Termin")


def test_diff_compares_every_content_field():
    """Only the framework document (compared as one field) is left to a special case."""
    compared = {f.name for f in diff_fields()}
    content = {f.name for f in Agreement._meta.concrete_fields if f.name not in NON_CONTENT_FIELDS}

    assert content - compared == {"framework_document_name"}


# --- The pages --------------------------------------------------------------------------


def login(client, username):
    assert client.login(username=username, password="demo")


def test_renew_button_posts_and_leads_to_the_new_drafts_wizard(client, signed_demo):
    login(client, "sales")
    page = client.get(reverse("agreement_detail", args=[signed_demo.pk]))
    assert reverse("agreement_renew", args=[signed_demo.pk]) in page.content.decode()

    response = client.post(reverse("agreement_renew", args=[signed_demo.pk]))

    successor = Agreement.objects.get(renews=signed_demo)
    assert response.status_code == 302
    assert response.url == reverse("agreement_step", args=[successor.pk, "grunddaten"])
    assert successor.created_by == user("sales")


@pytest.mark.parametrize(("username", "status"), [("management", 403), (None, 302)])
def test_renew_view_refuses_management_and_anonymous(client, signed_demo, username, status):
    if username:
        login(client, username)
        page = client.get(reverse("agreement_detail", args=[signed_demo.pk]))
        assert 'id="renew"' not in page.content.decode()

    response = client.post(reverse("agreement_renew", args=[signed_demo.pk]))

    assert response.status_code == status
    assert not Agreement.objects.filter(renews=signed_demo).exists()


def test_renew_view_answers_get_with_405(client, signed_demo):
    login(client, "marketing")
    assert client.get(reverse("agreement_renew", args=[signed_demo.pk])).status_code == 405


def test_second_renewal_in_the_browser_links_to_the_existing_one(client, signed_demo):
    successor = renew(signed_demo)
    login(client, "marketing")

    response = client.post(reverse("agreement_renew", args=[signed_demo.pk]), follow=True)

    html = response.content.decode()
    assert "Diese Vereinbarung wurde bereits erneuert." in html
    assert f'href="{reverse("agreement_detail", args=[successor.pk])}"' in html
    assert 'id="renew"' not in html
    assert Agreement.objects.filter(renews=signed_demo).count() == 1


def test_review_and_agreement_page_show_the_changes(client, signed_demo):
    successor = renew(signed_demo)
    successor.sql_target = 70
    successor.save()
    login(client, "marketing")

    for name, args in (
        ("agreement_step", [successor.pk, "pruefen"]),
        ("agreement_detail", [successor.pk]),
    ):
        html = client.get(reverse(name, args=args)).content.decode()
        assert 'id="renewal-changes"' in html, name
        assert '<th scope="row" class="fw-normal">Anzahl SQL</th><td><del>55</del></td>' in (html)
        assert "<ins>70</ins>" in html
        assert "<ins>01.01.2027</ins>" in html
        # Start, end, renewal date and the SQL target: exactly four rows.
        assert html.count('<th scope="row" class="fw-normal">') == 4


def test_predecessor_page_links_to_its_renewal(client, signed_demo):
    successor = renew(signed_demo)
    login(client, "management")

    html = client.get(reverse("agreement_detail", args=[signed_demo.pk])).content.decode()

    assert 'id="renewal-successor"' in html
    assert reverse("agreement_detail", args=[successor.pk]) in html
