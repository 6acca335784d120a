"""The sign-off: submit, sign, complete, decline, reopen; who may, from which state, and mail."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection

from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.models import Agreement, AuditEvent, Signature
from agreements.workflow import (
    WorkflowError,
    agreement_decline,
    agreement_reopen,
    agreement_sign,
    agreement_submit,
)
from tests.factories import (
    fresh,
    make_member,
    make_organisation,
    make_request_meta,
    sign_agreement,
    submit_agreement,
    tamper,
)

User = get_user_model()
SITE = "https://sla.example.ch"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SLA_SITE_URL = SITE


@pytest.fixture
def users(demo_agreement):
    return {u.username: u for u in User.objects.filter(username__in=Role.values)}


def actions(agreement) -> list[str]:
    return list(
        AuditEvent.objects.filter(agreement=agreement)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def submitted(agreement):
    """The demo agreement submitted, with the submit's mail already cleared."""
    submit_agreement(agreement)
    mail.outbox.clear()
    return fresh(agreement)


# Submit


def test_submit_freezes_the_content_and_asks_both_representatives_to_sign(
    demo_agreement, users, django_capture_on_commit_callbacks
):
    revision = demo_agreement.revision

    with django_capture_on_commit_callbacks(execute=True):
        result = agreement_submit(
            agreement=demo_agreement, user=users["marketing"], meta=make_request_meta()
        )

    agreement = fresh(demo_agreement)
    assert result.status == agreement.status == AgreementStatus.AWAITING_SIGNATURES
    assert agreement.submitted_at is not None
    assert agreement.revision == revision + 1
    assert agreement.content_sha256 == agreement.content_hash()
    assert agreement.content_snapshot["organisation"] == "Muster AG"
    assert agreement.content_snapshot["sales_representative"]["full_name"] == "Marco Brunner"
    event = AuditEvent.objects.get(agreement=agreement)
    assert (event.action, event.actor, event.ip_address) == (
        AuditAction.SUBMITTED,
        users["marketing"],
        "203.0.113.7",
    )
    assert event.details["content_sha256"] == agreement.content_sha256

    assert recipients() == ["marketing@muster.example", "sales@muster.example"]
    to_sales = next(m for m in mail.outbox if m.to == ["sales@muster.example"])
    assert to_sales.subject.startswith("Bitte unterzeichnen: SLA Muster AG")
    assert "Guten Tag Marco Brunner" in to_sales.body
    assert "für Sales" in to_sales.body
    assert f"{SITE}/agreements/{agreement.pk}/" in to_sales.body
    assert agreement.content_sha256 in to_sales.body
    html, mimetype = to_sales.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{SITE}/agreements/{agreement.pk}/"' in html


def test_a_sales_member_may_submit_too(demo_agreement, users):
    agreement = submit_agreement(demo_agreement, users["sales"])

    assert agreement.status == AgreementStatus.AWAITING_SIGNATURES


def test_management_cannot_submit(demo_agreement, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WorkflowError) as refused:
        submit_agreement(demo_agreement, users["management"])

    assert "Nur Mitglieder von Marketing oder Sales" in str(refused.value)
    assert fresh(demo_agreement).status == AgreementStatus.DRAFT
    assert actions(demo_agreement) == []
    assert mail.outbox == []


def test_a_member_of_another_organisation_cannot_submit(demo_agreement):
    outsider = make_member(make_organisation(), Role.MARKETING)

    with pytest.raises(WorkflowError):
        submit_agreement(demo_agreement, outsider)

    assert fresh(demo_agreement).status == AgreementStatus.DRAFT


def test_submit_is_refused_while_something_is_missing(demo_agreement, users):
    Agreement.objects.filter(pk=demo_agreement.pk).update(definition_visits="", sql_target=None)

    with pytest.raises(WorkflowError) as refused:
        submit_agreement(fresh(demo_agreement))

    assert "Definition Visits" in str(refused.value)
    assert "Anzahl SQL" in str(refused.value)
    agreement = fresh(demo_agreement)
    assert (agreement.status, agreement.content_sha256) == (AgreementStatus.DRAFT, "")
    assert actions(agreement) == []


def test_submit_is_refused_when_already_submitted(demo_agreement):
    agreement = submitted(demo_agreement)

    with pytest.raises(WorkflowError) as refused:
        submit_agreement(agreement)

    assert "Nur ein Entwurf" in str(refused.value)
    assert actions(agreement) == [AuditAction.SUBMITTED]


def test_submit_is_refused_when_signed(demo_agreement):
    agreement = submitted(demo_agreement)
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)

    with pytest.raises(WorkflowError):
        submit_agreement(fresh(agreement))

    assert fresh(agreement).status == AgreementStatus.SIGNED


# Sign and complete


def test_the_first_signature_records_who_what_when_and_where(demo_agreement, users):
    agreement = submitted(demo_agreement)

    signature = agreement_sign(
        agreement=agreement,
        party=Party.SALES,
        user=users["sales"],
        typed_name="  marco   BRUNNER ",
        content_sha256=agreement.content_sha256,
        meta=make_request_meta(ip="2001:db8::7", user_agent="Firefox/140"),
    )

    signature.refresh_from_db()
    assert signature.user == users["sales"]
    assert signature.party == Party.SALES
    assert signature.typed_name == "marco BRUNNER"
    assert signature.signed_at is not None
    assert (signature.ip_address, signature.user_agent) == ("2001:db8::7", "Firefox/140")
    assert signature.content_sha256 == agreement.content_sha256
    assert fresh(agreement).status == AgreementStatus.AWAITING_SIGNATURES
    assert actions(agreement) == [AuditAction.SUBMITTED, AuditAction.SIGNED]


@pytest.mark.parametrize("order", [(Party.MARKETING, Party.SALES), (Party.SALES, Party.MARKETING)])
def test_the_second_signature_completes_the_agreement_in_either_order(
    demo_agreement, order, django_capture_on_commit_callbacks
):
    agreement = submitted(demo_agreement)

    with django_capture_on_commit_callbacks(execute=True):
        sign_agreement(agreement, order[0])
        last = sign_agreement(agreement, order[1])

    agreement = fresh(agreement)
    assert last.agreement.status == agreement.status == AgreementStatus.SIGNED
    assert agreement.completed_at is not None
    assert actions(agreement) == [
        AuditAction.SUBMITTED,
        AuditAction.SIGNED,
        AuditAction.SIGNED,
        AuditAction.COMPLETED,
        AuditAction.PDF_STORED,  # by the completion hook, after the commit
    ]
    assert agreement.signed_pdf and agreement.signed_pdf_sha256
    completed = AuditEvent.objects.get(agreement=agreement, action=AuditAction.COMPLETED)
    assert [s["party"] for s in completed.details["signatures"]] == [p.value for p in order]
    assert completed.details["content_sha256"] == agreement.content_sha256

    # Everyone involved and the management hear of it, once each.
    assert recipients() == [
        "management@muster.example",
        "marketing@muster.example",
        "sales@muster.example",
    ]
    message = mail.outbox[0]
    assert message.subject.startswith("Unterzeichnet: SLA Muster AG")
    assert "Marketing: Anna Keller, unterzeichnet am" in message.body
    assert "Sales: Marco Brunner, unterzeichnet am" in message.body
    # The trail's head, kept outside the database: the last event's number and hash.
    assert f"(Ereignis Nr. {completed.sequence}): {completed.hash}" in message.body
    assert f"{SITE}/agreements/{agreement.pk}/" in message.body


def test_only_the_named_representative_signs_for_a_party(demo_agreement, users):
    agreement = submitted(demo_agreement)

    for user in (users["sales"], users["management"]):
        with pytest.raises(WorkflowError) as refused:
            sign_agreement(agreement, Party.MARKETING, user)
        assert "Nur die benannte Vertretung von Marketing" in str(refused.value)

    assert not Signature.objects.filter(agreement=agreement).exists()


def test_a_representative_who_left_the_role_cannot_sign(demo_agreement, users):
    agreement = submitted(demo_agreement)
    users["marketing"].memberships.update(role=Role.MANAGEMENT)

    with pytest.raises(WorkflowError):
        sign_agreement(agreement, Party.MARKETING)

    assert not Signature.objects.filter(agreement=agreement).exists()


def test_a_party_cannot_sign_twice(demo_agreement):
    agreement = submitted(demo_agreement)
    sign_agreement(agreement, Party.MARKETING)

    with pytest.raises(WorkflowError) as refused:
        sign_agreement(agreement, Party.MARKETING)

    assert "bereits unterzeichnet" in str(refused.value)
    assert Signature.objects.filter(agreement=agreement).count() == 1


def test_signing_a_version_other_than_the_frozen_one_is_refused(demo_agreement, users):
    agreement = submitted(demo_agreement)

    with pytest.raises(WorkflowError) as refused:
        agreement_sign(
            agreement=agreement,
            party=Party.MARKETING,
            user=users["marketing"],
            typed_name="Anna Keller",
            content_sha256="0" * 64,
            meta=make_request_meta(),
        )

    assert "geändert, seit Sie sie geöffnet haben" in str(refused.value)
    assert not Signature.objects.filter(agreement=agreement).exists()


def test_a_version_seen_before_a_reopen_and_resubmit_cannot_be_signed(demo_agreement, users):
    agreement = submitted(demo_agreement)
    seen = agreement.content_sha256
    agreement_reopen(agreement=agreement, user=users["marketing"], meta=make_request_meta())
    Agreement.objects.filter(pk=agreement.pk).update(sql_target=70)
    agreement = submitted(agreement)

    with pytest.raises(WorkflowError):
        agreement_sign(
            agreement=agreement,
            party=Party.SALES,
            user=users["sales"],
            typed_name="Marco Brunner",
            content_sha256=seen,
            meta=make_request_meta(),
        )

    assert agreement.content_sha256 != seen


def test_content_changed_behind_the_workflow_is_not_signed(demo_agreement):
    agreement = submitted(demo_agreement)
    tamper(Agreement.objects.filter(pk=agreement.pk), sql_target=1)

    with pytest.raises(WorkflowError) as refused:
        sign_agreement(agreement, Party.MARKETING)

    assert "stimmt nicht mehr mit der eingereichten Fassung" in str(refused.value)


def test_the_typed_name_must_be_the_signers_full_name(demo_agreement, users):
    agreement = submitted(demo_agreement)

    with pytest.raises(WorkflowError) as refused:
        agreement_sign(
            agreement=agreement,
            party=Party.MARKETING,
            user=users["marketing"],
            typed_name="A. K.",
            content_sha256=agreement.content_sha256,
            meta=make_request_meta(),
        )

    assert "Anna Keller" in str(refused.value)
    assert not Signature.objects.filter(agreement=agreement).exists()


def test_a_draft_cannot_be_signed(demo_agreement, users):
    with pytest.raises(WorkflowError) as refused:
        agreement_sign(
            agreement=demo_agreement,
            party=Party.MARKETING,
            user=users["marketing"],
            typed_name="Anna Keller",
            content_sha256=demo_agreement.content_hash(),
            meta=make_request_meta(),
        )

    assert "kann zurzeit nicht unterzeichnet werden" in str(refused.value)


def test_a_signed_agreement_cannot_be_signed_again(demo_agreement):
    agreement = submitted(demo_agreement)
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)

    with pytest.raises(WorkflowError):
        sign_agreement(agreement, Party.SALES)

    assert AuditEvent.objects.filter(agreement=agreement, action=AuditAction.COMPLETED).count() == 1


# Decline


def test_decline_voids_given_signatures_returns_to_draft_and_tells_the_other_side(
    demo_agreement, users, django_capture_on_commit_callbacks
):
    agreement = submitted(demo_agreement)
    given = sign_agreement(agreement, Party.MARKETING)

    with django_capture_on_commit_callbacks(execute=True):
        agreement_decline(
            agreement=agreement,
            user=users["sales"],
            reason="Die Reaktionszeit von 24 Stunden ist nicht machbar.",
            meta=make_request_meta(),
        )

    agreement = fresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT
    assert (agreement.content_sha256, agreement.content_snapshot) == ("", None)
    given.refresh_from_db()
    assert given.voided_at is not None
    assert given.void_reason == (
        "Abgelehnt von Marco Brunner: Die Reaktionszeit von 24 Stunden ist nicht machbar."
    )
    event = AuditEvent.objects.get(agreement=agreement, action=AuditAction.DECLINED)
    assert event.details == {
        "reason": "Die Reaktionszeit von 24 Stunden ist nicht machbar.",
        "voided_signature_ids": [given.pk],
    }

    assert recipients() == ["marketing@muster.example"]  # not the one who declined
    message = mail.outbox[0]
    assert message.subject.startswith("Abgelehnt: SLA Muster AG")
    assert (
        "Marco Brunner hat die Leistungsvereinbarung der Muster AG vom 01.01.2027" in message.body
    )
    assert "Die Reaktionszeit von 24 Stunden ist nicht machbar." in message.body
    assert "Marketing: Anna Keller, unterzeichnet am" in message.body
    assert f"{SITE}/agreements/{agreement.pk}/" in message.body


def test_a_url_in_a_decline_reason_is_text_in_the_html_mail(
    demo_agreement, users, django_capture_on_commit_callbacks
):
    agreement = submitted(demo_agreement)
    with django_capture_on_commit_callbacks(execute=True):
        agreement_decline(
            agreement=agreement,
            user=users["sales"],
            reason="Bitte neu anmelden: https://sla-portal.example.net/login <b>jetzt</b>",
            meta=make_request_meta(),
        )

    html, _mimetype = mail.outbox[0].alternatives[0]
    assert "https://sla-portal.example.net/login &lt;b&gt;jetzt&lt;/b&gt;" in html
    assert 'href="https://sla-portal.example.net' not in html
    assert html.count("<a ") == 1  # the portal's own link to the agreement, nothing else
    assert f'href="{SITE}/agreements/{agreement.pk}/"' in html


def test_after_a_decline_the_draft_can_be_fixed_resubmitted_and_signed(demo_agreement, users):
    agreement = submitted(demo_agreement)
    sign_agreement(agreement, Party.MARKETING)
    agreement_decline(
        agreement=agreement, user=users["sales"], reason="Zu knapp.", meta=make_request_meta()
    )
    Agreement.objects.filter(pk=agreement.pk).update(response_time_hours=48)

    agreement = submitted(agreement)
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)

    agreement = fresh(agreement)
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.content_snapshot["response_time_hours"] == 48
    assert agreement.signatures.valid().count() == 2
    assert agreement.signatures.count() == 3


def test_decline_needs_a_reason(demo_agreement, users):
    agreement = submitted(demo_agreement)

    with pytest.raises(WorkflowError) as refused:
        agreement_decline(
            agreement=agreement, user=users["sales"], reason="  ", meta=make_request_meta()
        )

    assert "Grund" in str(refused.value)
    assert fresh(agreement).status == AgreementStatus.AWAITING_SIGNATURES


def test_only_a_representative_may_decline(demo_agreement, users):
    agreement = submitted(demo_agreement)
    colleague = make_member(agreement.organisation, Role.SALES)

    for user in (users["management"], colleague):
        with pytest.raises(WorkflowError):
            agreement_decline(
                agreement=agreement, user=user, reason="Nein.", meta=make_request_meta()
            )

    assert fresh(agreement).status == AgreementStatus.AWAITING_SIGNATURES


@pytest.mark.parametrize("signed", [False, True], ids=["draft", "signed"])
def test_decline_is_refused_unless_awaiting_signatures(demo_agreement, users, signed):
    agreement = demo_agreement
    if signed:
        agreement = submitted(agreement)
        sign_agreement(agreement, Party.MARKETING)
        sign_agreement(agreement, Party.SALES)

    with pytest.raises(WorkflowError):
        agreement_decline(
            agreement=agreement, user=users["sales"], reason="Nein.", meta=make_request_meta()
        )

    assert fresh(agreement).status == (AgreementStatus.SIGNED if signed else AgreementStatus.DRAFT)


# Reopen


def test_reopen_voids_signatures_and_tells_the_other_side(
    demo_agreement, users, django_capture_on_commit_callbacks
):
    agreement = submitted(demo_agreement)
    given = sign_agreement(agreement, Party.SALES)

    with django_capture_on_commit_callbacks(execute=True):
        agreement_reopen(
            agreement=agreement,
            user=users["marketing"],
            meta=make_request_meta(),
            reason="Tippfehler in der Definition der Visits.",
        )

    agreement = fresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT
    given.refresh_from_db()
    assert given.voided_at is not None
    assert given.void_reason.startswith("Zurückgeholt von Anna Keller")
    assert actions(agreement)[-1] == AuditAction.REOPENED

    assert recipients() == ["sales@muster.example"]
    message = mail.outbox[0]
    assert message.subject.startswith("Zurück in Bearbeitung: SLA Muster AG")
    assert "Tippfehler in der Definition der Visits." in message.body
    assert "Sales: Marco Brunner, unterzeichnet am" in message.body
    assert f"{SITE}/agreements/{agreement.pk}/" in message.body


def test_any_author_may_reopen_but_management_may_not(demo_agreement, users):
    agreement = submitted(demo_agreement)

    with pytest.raises(WorkflowError) as refused:
        agreement_reopen(agreement=agreement, user=users["management"], meta=make_request_meta())
    assert "Nur Mitglieder von Marketing oder Sales" in str(refused.value)
    assert fresh(agreement).status == AgreementStatus.AWAITING_SIGNATURES

    agreement_reopen(agreement=agreement, user=users["sales"], meta=make_request_meta())
    assert fresh(agreement).status == AgreementStatus.DRAFT


@pytest.mark.parametrize("signed", [False, True], ids=["draft", "signed"])
def test_reopen_is_refused_unless_awaiting_signatures(demo_agreement, users, signed):
    agreement = demo_agreement
    if signed:
        agreement = submitted(agreement)
        sign_agreement(agreement, Party.MARKETING)
        sign_agreement(agreement, Party.SALES)

    with pytest.raises(WorkflowError):
        agreement_reopen(agreement=agreement, user=users["marketing"], meta=make_request_meta())

    assert fresh(agreement).status == (AgreementStatus.SIGNED if signed else AgreementStatus.DRAFT)


# Mail goes only to people who can receive it


def test_users_without_email_get_no_mail(demo_agreement, users, django_capture_on_commit_callbacks):
    User.objects.filter(username="sales").update(email="")

    with django_capture_on_commit_callbacks(execute=True):
        submit_agreement(demo_agreement)

    assert recipients() == ["marketing@muster.example"]


# Both sign at the same instant


@pytest.mark.django_db(transaction=True)
def test_two_signatures_at_the_same_instant_complete_the_agreement_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises all writes anyway)")
    from agreements.demo import load_demo

    agreement = submit_agreement(load_demo())
    barrier = threading.Barrier(2)
    errors = []

    def sign(party):
        try:
            barrier.wait(timeout=10)
            sign_agreement(agreement, party)
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(party,)) for party in Party]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    agreement = fresh(agreement)
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.signatures.valid().count() == 2
    assert AuditEvent.objects.filter(agreement=agreement, action=AuditAction.COMPLETED).count() == 1
    sequences = list(
        AuditEvent.objects.filter(agreement=agreement)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == [1, 2, 3, 4, 5]  # submitted, signed twice, completed, pdf_stored


def test_a_mail_server_that_is_down_does_not_undo_the_signature(
    demo_agreement, settings, django_capture_on_commit_callbacks, caplog
):
    # A real SMTP backend pointed at a closed port: the connection is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    agreement = submitted(demo_agreement)

    with django_capture_on_commit_callbacks(execute=True):
        sign_agreement(agreement, Party.MARKETING)
        sign_agreement(agreement, Party.SALES)

    agreement = fresh(agreement)
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.signatures.valid().count() == 2
    assert agreement.signed_pdf  # the PDF's task ran; the failing mail's task was only logged
    assert "Task workflow_mail_task" in caplog.text and "failed for good" in caplog.text
