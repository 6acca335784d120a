"""The sign-off in the browser: submit, sign, decline, reopen, the agreement page's panel.

The transitions themselves are tested in test_workflow.py; here: who reaches which page
(HTTP code per role), that a refused form signs nothing, and what the pages show.
"""

import re

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from agreements.audit import audit_record, audit_verify
from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.models import Agreement, AuditEvent, Signature
from tests.factories import (
    fresh,
    make_agreement,
    make_member,
    make_organisation,
    make_request_meta,
    sign_agreement,
    submit_agreement,
    tamper,
    tamper_delete,
)

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
CONSENT = (
    "Ich unterzeichne diese Vereinbarung elektronisch und bestätige, das oben angezeigte "
    "Dokument gelesen zu haben."
)


def url(name, agreement):
    return reverse(name, args=[agreement.pk])


def login(client, username):
    assert client.login(username=username, password="demo")


def sign_data(agreement, name="Anna Keller", password="demo", consent=True, sha=None):
    data = {
        "password": password,
        "typed_name": name,
        "content_sha256": sha or fresh(agreement).content_sha256,
    }
    if consent:
        data["consent"] = "on"
    return data


@pytest.fixture
def submitted(demo_agreement):
    """The demo SLA awaiting signatures, the submit's mail cleared."""
    submit_agreement(demo_agreement)
    mail.outbox.clear()
    return fresh(demo_agreement)


# Who reaches which page


SIGN_OFF_POSTS = ["agreement_submit", "agreement_decline", "agreement_reopen", "agreement_sign"]


@pytest.mark.parametrize("name", SIGN_OFF_POSTS)
def test_anonymous_visitors_are_sent_to_the_login(client, submitted, name):
    target = url(name, submitted)
    response = client.post(target, {"reason": "x"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={target}"
    assert fresh(submitted).status == AgreementStatus.AWAITING_SIGNATURES


@pytest.mark.parametrize("name", SIGN_OFF_POSTS)
def test_other_organisations_get_404(client, submitted, name):
    outsider = make_member(make_organisation(), Role.MARKETING)
    client.force_login(outsider)
    assert client.post(url(name, submitted), {"reason": "x"}).status_code == 404
    assert client.get(url("agreement_sign", submitted)).status_code == 404


@pytest.mark.parametrize("name", SIGN_OFF_POSTS)
def test_management_reads_but_may_not_act(client, submitted, name):
    login(client, "management")
    response = client.post(url(name, submitted), {"reason": "Nein", **sign_data(submitted)})
    assert response.status_code == 403
    assert client.get(url("agreement_sign", submitted)).status_code == 403
    assert fresh(submitted).status == AgreementStatus.AWAITING_SIGNATURES
    assert not Signature.objects.filter(agreement=submitted).exists()


def test_a_marketing_member_who_is_not_the_representative_may_not_sign(client, submitted):
    colleague = make_member(submitted.organisation, Role.MARKETING, "lukas", first_name="Lukas")
    client.force_login(colleague)

    assert client.get(url("agreement_sign", submitted)).status_code == 403
    response = client.post(url("agreement_sign", submitted), sign_data(submitted, "Lukas Test"))
    assert response.status_code == 403
    assert client.post(url("agreement_decline", submitted), {"reason": "x"}).status_code == 403
    assert not Signature.objects.filter(agreement=submitted).exists()
    # As an author, though, the colleague may pull the agreement back.
    page = client.get(url("agreement_detail", submitted)).text
    assert "Zurückziehen" in page
    assert url("agreement_sign", submitted) not in page


@pytest.mark.parametrize("name", ["agreement_submit", "agreement_decline", "agreement_reopen"])
def test_state_changes_need_post(client, submitted, name):
    login(client, "marketing")
    assert client.get(url(name, submitted)).status_code == 405


# Submit


def review_url(agreement):
    return reverse("agreement_step", args=[agreement.pk, "pruefen"])


def test_the_review_of_a_complete_draft_offers_the_submit_button(client, demo_agreement):
    login(client, "sales")
    response = client.get(review_url(demo_agreement))
    assert response.status_code == 200
    assert "Zur Unterzeichnung einreichen" in response.text
    assert f'action="{url("agreement_submit", demo_agreement)}"' in response.text


def test_an_incomplete_draft_offers_no_submit_button(client, demo_agreement):
    Agreement.objects.filter(pk=demo_agreement.pk).update(sql_target=None)
    login(client, "marketing")
    response = client.get(review_url(demo_agreement))
    assert response.status_code == 200
    assert url("agreement_submit", demo_agreement) not in response.text


def test_management_never_sees_the_review_or_its_button(client, demo_agreement):
    login(client, "management")
    assert client.get(review_url(demo_agreement)).status_code == 403
    page = client.get(url("agreement_detail", demo_agreement)).text
    assert url("agreement_submit", demo_agreement) not in page
    assert "Bearbeiten" not in page


def test_submit_freezes_the_draft_and_asks_both_to_sign(
    client, demo_agreement, django_capture_on_commit_callbacks
):
    login(client, "marketing")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("agreement_submit", demo_agreement),
            {"revision": demo_agreement.revision},
            follow=True,
        )

    agreement = fresh(demo_agreement)
    assert response.redirect_chain == [(url("agreement_detail", demo_agreement), 302)]
    assert agreement.status == AgreementStatus.AWAITING_SIGNATURES
    assert "ist zur Unterzeichnung eingereicht" in response.text
    assert sorted(m.to[0] for m in mail.outbox) == [
        "marketing@muster.example",
        "sales@muster.example",
    ]
    # Frozen: the page offers no editing, and the wizard sends the author back to the
    # agreement's page, saying why (issue 19: it was a bare 403).
    assert "Bearbeiten" not in response.text
    refused = client.get(review_url(agreement))
    assert refused.status_code == 302
    assert refused["Location"] == url("agreement_detail", demo_agreement)


def test_submit_of_a_revision_changed_since_the_review_is_refused(client, demo_agreement):
    login(client, "marketing")
    response = client.post(
        url("agreement_submit", demo_agreement), {"revision": demo_agreement.revision - 1}
    )
    assert response.status_code == 302
    assert response["Location"] == review_url(demo_agreement)
    assert fresh(demo_agreement).status == AgreementStatus.DRAFT
    page = client.get(response["Location"]).text
    assert "Das SLA wurde inzwischen geändert" in page


def test_submit_of_an_incomplete_draft_says_what_is_missing(client, demo_agreement):
    Agreement.objects.filter(pk=demo_agreement.pk).update(
        sql_target=None, sql_period="", group_subgroup=""
    )
    login(client, "marketing")
    response = client.post(
        url("agreement_submit", demo_agreement), {"revision": demo_agreement.revision}, follow=True
    )
    assert fresh(demo_agreement).status == AgreementStatus.DRAFT
    # One German list: commas, and "und" before the last.
    assert "Es fehlen: Gruppe / Untergruppe, Anzahl SQL und Zeitraum." in response.text
    assert 'role="alert"' in response.text


def test_a_second_click_on_submit_is_answered_with_a_message(client, submitted):
    login(client, "marketing")
    response = client.post(
        url("agreement_submit", submitted), {"revision": submitted.revision}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("agreement_detail", submitted)
    assert "Nur ein Entwurf kann zur Unterzeichnung eingereicht werden." in response.text
    assert submitted.audit_events.filter(action=AuditAction.SUBMITTED).count() == 1


# Sign


def test_the_sign_page_shows_the_frozen_document_its_hash_and_the_form(client, submitted):
    login(client, "marketing")
    response = client.get(url("agreement_sign", submitted))
    text = response.text
    assert response.status_code == 200
    assert "Unterzeichnen für Marketing" in text
    # The company name is wrapped as a name (never hyphenated in the PDF): read the text.
    assert "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG" in strip_tags(
        text
    )
    assert f"{submitted.content_sha256[:12]}…" in text
    assert f">{submitted.content_sha256}</code>" in text  # the full hash, in <details>
    assert f'name="content_sha256" value="{submitted.content_sha256}"' in text
    assert CONSENT in text
    assert 'autocomplete="current-password"' in text
    assert 'for="id_typed_name"' in text
    assert "So, wie er in der Vereinbarung steht: Anna Keller" in text


def test_signing_records_the_signature_and_waits_for_the_other_party(client, submitted):
    login(client, "marketing")
    response = client.post(
        url("agreement_sign", submitted),
        sign_data(submitted),
        headers={"user-agent": BROWSER},
        REMOTE_ADDR="198.51.100.23",
        follow=True,
    )

    signature = Signature.objects.get(agreement=submitted)
    assert response.redirect_chain == [(url("agreement_detail", submitted), 302)]
    assert (signature.party, signature.user.username) == (Party.MARKETING, "marketing")
    assert signature.typed_name == "Anna Keller"
    assert signature.ip_address == "198.51.100.23"
    assert signature.user_agent == BROWSER
    assert signature.content_sha256 == submitted.content_sha256
    # The event keeps the declaration the signer ticked, in the words the page showed.
    event = AuditEvent.objects.get(agreement=submitted, action=AuditAction.SIGNED)
    assert event.details["consent"] == CONSENT
    assert fresh(submitted).status == AgreementStatus.AWAITING_SIGNATURES
    assert "Sie haben für Marketing unterzeichnet" in response.text
    assert "Unterschrift ausstehend" in response.text  # Sales still awaited
    # Signed once: no second "Unterzeichnen" for marketing, who may still decline.
    assert url("agreement_sign", submitted) not in response.text
    assert "Ablehnen" in response.text


def test_behind_the_proxy_the_signature_records_the_clients_address(client, submitted, settings):
    # nginx in front, as in the README: every request comes from 127.0.0.1, and the
    # proxy appends the address it saw to whatever X-Forwarded-For the client sent.
    settings.SLA_TRUSTED_PROXIES = 1
    login(client, "marketing")

    client.post(
        url("agreement_sign", submitted),
        sign_data(submitted),
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7",  # the left entry is the client's claim
    )

    signature = Signature.objects.get(agreement=submitted)
    event = AuditEvent.objects.get(agreement=submitted, action=AuditAction.SIGNED)
    assert signature.ip_address == event.ip_address == "203.0.113.7"


def test_the_second_signature_completes_the_agreement(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    login(client, "sales")
    response = client.post(
        url("agreement_sign", submitted), sign_data(submitted, "Marco Brunner"), follow=True
    )

    agreement = fresh(submitted)
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.completed_at is not None
    assert "vollständig unterzeichnet" in response.text
    assert "Unterzeichnet" in response.text
    # The document's signature block: signed online at a Swiss date and time, per party.
    block = re.search(r'<section class="sla-signatures".*?</section>', response.text, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", block.group()).split())
    signed_at = r"Elektronisch unterzeichnet am \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr"
    assert re.search(rf"Für „Marketing“ {signed_at} Anna Keller", text), text
    assert re.search(rf"Für „Sales“ {signed_at} Marco Brunner", text), text
    # The panel names each signer with their job title.
    assert "Anna Keller, Leiterin Inbound Marketing" in response.text
    assert "Marco Brunner, Leiter Inbound Sales" in response.text
    for label in ("Unterzeichnen für", "Ablehnen", "Zurückziehen", "Bearbeiten"):
        assert label not in response.text


def test_a_wrong_password_signs_nothing(client, submitted):
    events = AuditEvent.objects.filter(agreement=submitted).count()
    login(client, "marketing")

    response = client.post(url("agreement_sign", submitted), sign_data(submitted, password="x"))

    assert response.status_code == 422
    assert not Signature.objects.filter(agreement=submitted).exists()
    assert AuditEvent.objects.filter(agreement=submitted).count() == events
    assert "Es wurde nichts unterzeichnet." in response.text
    assert "Das Passwort ist nicht korrekt." in response.text
    assert 'role="alert"' in response.text
    assert 'value="Anna Keller"' in response.text  # the typed name is kept
    assert 'value="x"' not in response.text  # the password is not sent back


def test_without_consent_nothing_is_signed(client, submitted):
    login(client, "marketing")
    response = client.post(url("agreement_sign", submitted), sign_data(submitted, consent=False))
    assert response.status_code == 422
    assert not Signature.objects.filter(agreement=submitted).exists()
    assert "Bitte bestätigen Sie, dass Sie elektronisch unterzeichnen möchten." in response.text


def test_a_typed_name_other_than_the_own_is_refused_and_kept(client, submitted):
    login(client, "marketing")
    response = client.post(url("agreement_sign", submitted), sign_data(submitted, "A. Keller"))
    assert response.status_code == 422
    assert not Signature.objects.filter(agreement=submitted).exists()
    assert "Bitte tippen Sie Ihren vollständigen Namen" in response.text
    assert 'value="A. Keller"' in response.text


def test_a_version_changed_since_the_page_was_opened_is_not_signed(
    client, submitted, django_capture_on_commit_callbacks
):
    login(client, "marketing")
    seen = client.get(url("agreement_sign", submitted))
    old_sha = submitted.content_sha256
    # Meanwhile: reopened, a figure corrected, submitted again.
    from agreements.workflow import agreement_reopen

    agreement_reopen(
        agreement=submitted, user=submitted.sales_representative, meta=make_request_meta()
    )
    Agreement.objects.filter(pk=submitted.pk).update(sql_target=70)
    new = submit_agreement(fresh(submitted))
    assert seen.status_code == 200 and new.content_sha256 != old_sha

    response = client.post(url("agreement_sign", submitted), sign_data(submitted, sha=old_sha))

    assert response.status_code == 409
    assert not Signature.objects.valid().filter(agreement=submitted).exists()
    assert "wurde geändert, seit Sie sie geöffnet haben" in response.text
    # The page now shows the new version: its hash to sign, the consent to give again.
    assert f'name="content_sha256" value="{new.content_sha256}"' in response.text
    assert 'value="Anna Keller"' in response.text
    assert re.search(r'name="consent"[^>]*checked', response.text) is None


def test_a_representative_who_signed_is_sent_to_the_agreement_page(client, submitted):
    sign_agreement(submitted, Party.SALES)
    login(client, "sales")
    response = client.get(url("agreement_sign", submitted), follow=True)
    assert response.redirect_chain == [(url("agreement_detail", submitted), 302)]
    assert "Sie haben für diese Vereinbarung bereits unterzeichnet." in response.text


def test_a_draft_cannot_be_opened_for_signing(client, demo_agreement):
    login(client, "marketing")
    response = client.get(url("agreement_sign", demo_agreement), follow=True)
    assert response.redirect_chain == [(url("agreement_detail", demo_agreement), 302)]
    assert "liegt zurzeit nicht zur Unterzeichnung vor" in response.text


# Decline and reopen


def test_decline_voids_the_signatures_and_tells_the_others(
    client, submitted, django_capture_on_commit_callbacks
):
    sign_agreement(submitted, Party.MARKETING)
    login(client, "sales")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("agreement_decline", submitted),
            {"reason": "Das SQL-Ziel ist zu hoch."},
            follow=True,
        )

    agreement = fresh(submitted)
    voided = Signature.objects.get(agreement=submitted)
    assert agreement.status == AgreementStatus.DRAFT
    assert voided.voided_at is not None
    assert "Das SQL-Ziel ist zu hoch." in voided.void_reason
    assert [m.to for m in mail.outbox] == [["marketing@muster.example"]]
    assert "Das SQL-Ziel ist zu hoch." in mail.outbox[0].body
    # The page shows the voided signature struck through, with reason and time.
    text = response.text
    assert "Sie haben die Vereinbarung abgelehnt" in text
    assert "Ungültige Unterschriften" in text
    assert re.search(r"<del>.*Anna Keller.*</del>", text, re.S)
    assert "Abgelehnt von Marco Brunner: Das SQL-Ziel ist zu hoch." in text
    assert "Bearbeiten" in text  # a draft again


def test_decline_needs_a_reason(client, submitted, django_capture_on_commit_callbacks):
    login(client, "marketing")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("agreement_decline", submitted), {"reason": "  "}, follow=True)
    assert fresh(submitted).status == AgreementStatus.AWAITING_SIGNATURES
    assert "Bitte geben Sie einen Grund für die Ablehnung an." in response.text
    assert mail.outbox == []


def test_an_author_reopens_and_the_others_are_told(
    client, submitted, django_capture_on_commit_callbacks
):
    sign_agreement(submitted, Party.SALES)
    login(client, "marketing")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("agreement_reopen", submitted), {"reason": "Tippfehler in 5."}, follow=True
        )

    assert fresh(submitted).status == AgreementStatus.DRAFT
    assert Signature.objects.get(agreement=submitted).voided_at is not None
    assert [m.to for m in mail.outbox] == [["sales@muster.example"]]
    assert "Die Vereinbarung ist zurückgezogen" in response.text
    assert "Zurückgeholt von Anna Keller: Tippfehler in 5." in response.text


def test_a_signed_agreement_cannot_be_reopened(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    sign_agreement(submitted, Party.SALES)
    login(client, "marketing")
    response = client.post(url("agreement_reopen", submitted), {}, follow=True)
    assert fresh(submitted).status == AgreementStatus.SIGNED
    assert "kann zur Überarbeitung zurückgeholt werden" in response.text


# The agreement page


def test_the_page_shows_per_role_only_the_buttons_that_apply(client, submitted):
    buttons = {
        "marketing": {"Unterzeichnen für Marketing", "Ablehnen", "Zurückziehen"},
        "sales": {"Unterzeichnen für Sales", "Ablehnen", "Zurückziehen"},
        "management": set(),
    }
    every = {"Unterzeichnen für Marketing", "Unterzeichnen für Sales", "Ablehnen", "Zurückziehen"}
    for username, expected in buttons.items():
        login(client, username)
        text = client.get(url("agreement_detail", submitted)).text
        assert {label for label in every if label in text} == expected, username
        assert "Bearbeiten" not in text


def test_the_audit_trail_lists_the_steps_and_reports_the_chain_intact(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    login(client, "management")
    text = client.get(url("agreement_detail", submitted)).text
    assert "Prüfprotokoll intakt" in text
    assert "Zur Unterzeichnung eingereicht" in text
    assert "für Marketing · als «Anna Keller»" in text
    assert "Anna Keller (marketing)" in text  # actor_name
    # The trail summarises; the document's text is not repeated in it.
    trail = text[text.index('id="audit"') :]
    assert "U-förmigen Modell" not in trail


def test_a_tampered_audit_row_is_reported_with_its_number(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    # A database user rewrites history (save() refuses; update() bypasses it).
    tamper(
        AuditEvent.objects.filter(agreement=submitted, action=AuditAction.SIGNED),
        actor_name="Jemand anderes",
    )
    number = AuditEvent.objects.get(agreement=submitted, action=AuditAction.SIGNED).sequence
    login(client, "marketing")
    text = client.get(url("agreement_detail", submitted)).text
    assert f"Prüfprotokoll beschädigt ab Eintrag {number}" in text


def record_downloads(agreement, count: int) -> None:
    """``count`` downloads of the PDF by the marketing representative, as the view records them."""
    with transaction.atomic():
        for _ in range(count):
            audit_record(
                agreement=agreement,
                action=AuditAction.PDF_DOWNLOADED,
                actor=agreement.marketing_representative,
                meta=make_request_meta(),
            )


def test_the_page_needs_no_more_queries_for_a_longer_trail(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    login(client, "marketing")
    detail = url("agreement_detail", submitted)
    client.get(detail)  # session and caches warmed

    with CaptureQueriesContext(connection) as few:
        client.get(detail)
    record_downloads(submitted, 10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(detail)

    assert response.text.count("PDF heruntergeladen") == 10
    assert len(many) == len(few)


def test_older_downloads_are_one_line_of_the_trail_and_still_verified(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    record_downloads(submitted, 25)
    login(client, "marketing")

    text = client.get(url("agreement_detail", submitted)).text

    trail = text[text.index('id="audit"') :]
    assert trail.count("PDF heruntergeladen") == 10  # the latest ones
    assert "15 frühere Downloads des PDF, hier nicht einzeln aufgeführt" in trail
    total = AuditEvent.objects.filter(agreement=submitted).count()
    assert f"Das Audit-Protokoll ist intakt ({total} Ereignisse)" in text


def test_a_tampered_hidden_download_is_left_to_verify_audit(client, submitted, capsys):
    # The page checks the trail's head, the rows it shows and the state, in a time that
    # does not grow with the downloads; the walk over all of them is verify_audit's.
    sign_agreement(submitted, Party.MARKETING)
    record_downloads(submitted, 15)
    first_download = (
        AuditEvent.objects.filter(agreement=submitted, action=AuditAction.PDF_DOWNLOADED)
        .order_by("sequence")
        .first()
    )
    tamper(AuditEvent.objects.filter(pk=first_download.pk), actor_name="Jemand anderes")
    login(client, "marketing")

    text = client.get(url("agreement_detail", submitted)).text

    assert "die regelmässige Prüfung des ganzen Protokolls umfasst sie" in text
    report = audit_verify(Agreement.objects.get(pk=submitted.pk))
    assert (report.intact, report.broken_sequence) == (False, first_download.sequence)


def test_a_tampered_shown_download_is_reported_on_the_page(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    record_downloads(submitted, 15)
    last_download = AuditEvent.objects.filter(agreement=submitted).order_by("sequence").last()
    tamper(AuditEvent.objects.filter(pk=last_download.pk), ip_address="192.0.2.99")
    login(client, "marketing")

    text = client.get(url("agreement_detail", submitted)).text

    assert f"Prüfprotokoll beschädigt ab Eintrag {last_download.sequence}" in text


def test_downloads_deleted_at_the_end_of_the_trail_are_reported_on_the_page(client, submitted):
    sign_agreement(submitted, Party.MARKETING)
    record_downloads(submitted, 3)
    head = Agreement.objects.get(pk=submitted.pk).audit_head_sequence
    tamper_delete(AuditEvent.objects.filter(agreement=submitted, sequence__gt=head - 2))
    login(client, "marketing")

    text = client.get(url("agreement_detail", submitted)).text

    assert f"Prüfprotokoll beschädigt ab Eintrag {head - 1}" in text
    assert "die letzten wurden gelöscht" in text


def test_a_draft_without_history_shows_no_sign_off_panel(client, db):
    organisation = make_organisation()
    author = make_member(organisation, Role.MARKETING)
    agreement = make_agreement(organisation)
    client.force_login(author)
    text = client.get(url("agreement_detail", agreement)).text
    assert 'id="signoff"' not in text
    assert "Noch keine Einträge." in text
