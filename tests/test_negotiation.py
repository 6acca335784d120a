"""Negotiating a draft (issue 21): comments per section, the field history, what changed
since a person last read the SLA, and what the sign page and the submission make of it.

Real objects throughout: the demo SLA, the real views, the workflow, the audit trail.
"""

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agreements import wizard
from agreements.archive import signed_render_inputs
from agreements.audit import audit_verify
from agreements.enums import AgreementStatus, AuditAction, Party, Role
from agreements.forms import GoalsForm
from agreements.models import Agreement, AuditEvent, Signature
from agreements.negotiation.comments import EDIT_WINDOW, thread_open
from agreements.negotiation.models import COMMENT_MAX_LENGTH, Comment, Thread
from agreements.negotiation.sections import SECTIONS
from agreements.negotiation.views import HISTORY_PAGE_SIZE
from agreements.pdf import render_agreement_pdf
from agreements.workflow import agreement_renew, agreement_submit
from tests.factories import (
    fresh,
    make_member,
    make_organisation,
    make_request_meta,
    sign_agreement,
    submit_agreement,
)
from tests.test_pdf import body_text, pages


def login(client, username):
    assert client.login(username=username, password="demo")


def goals_data(agreement, **changes) -> dict:
    """The "ziele" step as its page would post it, with ``changes``."""
    form = GoalsForm(instance=agreement)
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    return {**data, **changes, "go": "stay"}


def step_url(agreement, slug):
    return reverse("agreement_step", args=[agreement.pk, slug])


def comment(client, agreement, section, body, *, next_url="/"):
    return client.post(
        reverse("agreement_comment_add", args=[agreement.pk]),
        {"section": section, "body": body, "next": next_url},
    )


def users(agreement):
    return {m.role: m.user for m in agreement.organisation.memberships.select_related("user")}


# --- Sections -------------------------------------------------------------------------------


def test_every_section_belongs_to_a_wizard_step():
    assert {s.step for s in SECTIONS} <= set(wizard.STEP_BY_SLUG)
    assert [s.key for s in SECTIONS] == [*map(str, range(1, 12)), "appendix"]


# --- Comments -------------------------------------------------------------------------------


def test_sales_comments_on_section_7_and_sees_it_beside_the_goals_step(client, demo_agreement):
    login(client, "sales")

    response = comment(
        client,
        demo_agreement,
        "7",
        "70 SQL pro Quartal?\n<b>Zu hoch</b>",
        next_url=step_url(demo_agreement, "ziele"),
    )

    assert response.status_code == 302
    assert response["Location"] == step_url(demo_agreement, "ziele")
    page = client.get(step_url(demo_agreement, "ziele")).text
    assert "70 SQL pro Quartal?<br>&lt;b&gt;Zu hoch&lt;/b&gt;" in page  # escaped, lines kept
    assert 'data-comments="ziele"' in page  # the count in the step list
    assert "§7 Metriken" in page
    other_step = client.get(step_url(demo_agreement, "grunddaten")).text
    assert "70 SQL pro Quartal?" not in other_step


def test_a_comment_is_plain_text_everywhere(client, demo_agreement):
    login(client, "sales")
    comment(client, demo_agreement, "7", '<script>alert("x")</script> @anna.keller')

    pages = [
        client.get(step_url(demo_agreement, "pruefen")).text,
        client.get(reverse("agreement_history", args=[demo_agreement.pk])).text,
    ]

    for page in pages:
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_comment_form_goes_back_only_to_a_page_of_the_portal(client, demo_agreement):
    login(client, "sales")

    response = comment(client, demo_agreement, "7", "Frage", next_url="//evil.example/")

    assert response["Location"] == reverse("agreement_history", args=[demo_agreement.pk])


def test_reply_resolve_and_reopen(client, demo_agreement):
    people = users(demo_agreement)
    thread = thread_open(
        agreement=demo_agreement, section="7", user=people[Role.SALES], body="Zu hoch?"
    )
    login(client, "marketing")

    client.post(
        reverse("agreement_comment_add", args=[demo_agreement.pk]),
        {"thread": thread.pk, "body": "Wir gehen auf 70."},
    )
    client.post(reverse("agreement_thread_resolve", args=[demo_agreement.pk, thread.pk]))
    resolved = Thread.objects.get(pk=thread.pk)
    client.post(
        reverse("agreement_thread_resolve", args=[demo_agreement.pk, thread.pk]),
        {"resolved": "0"},
    )

    assert [c.body for c in thread.comments.all()] == ["Zu hoch?", "Wir gehen auf 70."]
    assert resolved.is_resolved and resolved.resolved_by_name == "Anna Keller"
    assert not Thread.objects.get(pk=thread.pk).is_resolved


def test_management_comments_on_the_agreement_page(client, demo_agreement):
    login(client, "management")
    detail = reverse("agreement_detail", args=[demo_agreement.pk])
    page = client.get(detail).text

    comment(client, demo_agreement, "appendix", "Woher kommen die 34’000 Visits?", next_url=detail)

    assert 'id="new-thread"' in page
    assert Comment.objects.get().author_name == "Claudia Meier"
    assert "Woher kommen die 34’000 Visits?" in client.get(detail).text


def test_own_comment_is_editable_for_15_minutes_only(client, demo_agreement):
    people = users(demo_agreement)
    thread = thread_open(agreement=demo_agreement, section="6", user=people[Role.SALES], body="A")
    first = thread.comments.get()
    edit_url = reverse("agreement_comment_edit", args=[demo_agreement.pk, first.pk])
    login(client, "sales")

    client.post(edit_url, {"body": "A, korrigiert"})
    Comment.objects.filter(pk=first.pk).update(created_at=timezone.now() - EDIT_WINDOW * 2)
    late = client.post(
        edit_url, {"body": "zu spät", "next": step_url(demo_agreement, "ziele")}, follow=True
    )

    assert Comment.objects.get(pk=first.pk).body == "A, korrigiert"
    assert "nur in den ersten 15 Minuten" in late.text
    assert "zu spät" in late.text  # the refused text waits in the form


def test_someone_elses_comment_cannot_be_edited(client, demo_agreement):
    people = users(demo_agreement)
    thread = thread_open(agreement=demo_agreement, section="6", user=people[Role.SALES], body="A")
    login(client, "marketing")

    response = client.post(
        reverse("agreement_comment_edit", args=[demo_agreement.pk, thread.comments.get().pk]),
        {"body": "B"},
    )

    assert response.status_code == 403
    assert thread.comments.get().body == "A"


def test_too_long_a_comment_is_refused_and_kept(client, demo_agreement):
    login(client, "sales")
    text = "x" * (COMMENT_MAX_LENGTH + 1)

    response = comment(
        client, demo_agreement, "7", text, next_url=reverse("agreement_history", args=[1])
    )
    page = client.get(step_url(demo_agreement, "pruefen")).text

    assert response.status_code == 302
    assert not Thread.objects.exists()
    assert "höchstens 2000 Zeichen" in page
    assert text in page


def test_a_mention_mails_the_member(client, demo_agreement, django_capture_on_commit_callbacks):
    login(client, "sales")

    with django_capture_on_commit_callbacks(execute=True):
        comment(client, demo_agreement, "7", "@anna.keller bitte prüfen, und @niemand")

    assert [m.to for m in mail.outbox] == [["marketing@muster.example"]]
    assert "Marco Brunner hat Sie in einem Kommentar erwähnt" in mail.outbox[0].subject
    assert "bitte prüfen" in mail.outbox[0].body


def test_a_url_in_a_comment_is_text_in_the_html_mail(
    client, demo_agreement, django_capture_on_commit_callbacks
):
    # Issue 12: only the portal's own links are links in its mail.
    login(client, "sales")

    with django_capture_on_commit_callbacks(execute=True):
        comment(client, demo_agreement, "7", "@anna.keller siehe https://evil.example/login")

    html, _mimetype = mail.outbox[0].alternatives[0]
    assert "https://evil.example/login" in html
    assert 'href="https://evil.example' not in html
    assert html.count("<a ") == 1  # the portal's link to the thread


def test_comments_are_frozen_once_submitted(client, demo_agreement):
    submit_agreement(demo_agreement)
    login(client, "sales")

    response = comment(client, demo_agreement, "7", "Noch eine Frage", next_url="/")

    assert response.status_code == 302
    assert not Thread.objects.exists()


def test_another_organisation_reaches_none_of_it(client, demo_agreement):
    people = users(demo_agreement)
    thread = thread_open(agreement=demo_agreement, section="7", user=people[Role.SALES], body="A")
    outsider_org = make_organisation("Andere AG")
    make_member(outsider_org, Role.SALES, "fremd", password="demo")
    own = Agreement.objects.create(organisation=outsider_org)
    login(client, "fremd")

    pages = [
        client.get(reverse("agreement_history", args=[demo_agreement.pk])),
        comment(client, demo_agreement, "7", "Hallo"),
        client.post(reverse("agreement_thread_resolve", args=[demo_agreement.pk, thread.pk])),
        # Their own agreement's URL with the other organisation's thread: not found either.
        client.post(reverse("agreement_thread_resolve", args=[own.pk, thread.pk])),
        client.post(
            reverse("agreement_comment_add", args=[own.pk]), {"thread": thread.pk, "body": "x"}
        ),
    ]

    assert [p.status_code for p in pages] == [404] * 5
    assert not Thread.objects.get(pk=thread.pk).is_resolved
    assert Comment.objects.count() == 1


# --- History --------------------------------------------------------------------------------


def test_a_saved_change_is_in_the_trail_and_in_the_history(client, demo_agreement):
    login(client, "marketing")

    client.post(step_url(demo_agreement, "ziele"), goals_data(demo_agreement, sql_target="70"))

    event = AuditEvent.objects.filter(agreement=demo_agreement).latest("sequence")
    assert event.action == AuditAction.STEP_SAVED
    assert event.details["changes"] == [{"field": "sql_target", "old": 65, "new": 70}]
    assert audit_verify(demo_agreement).intact
    page = client.get(reverse("agreement_history", args=[demo_agreement.pk]))
    row = page.text.split('data-field="sql_target"')[1].split("</tr>")[0]
    assert "Anna Keller" in row and "<del>65</del>" in row and "<ins>70</ins>" in row
    assert "Zielsetzungen &amp; Metriken" in row


def test_history_filters_by_person_and_field(client, demo_agreement):
    login(client, "marketing")
    client.post(step_url(demo_agreement, "ziele"), goals_data(demo_agreement, sql_target="70"))
    client.logout()
    login(client, "sales")
    client.post(
        step_url(demo_agreement, "ziele"),
        goals_data(fresh(demo_agreement), response_time_hours="48"),
    )
    sales = users(demo_agreement)[Role.SALES]
    history = reverse("agreement_history", args=[demo_agreement.pk])

    by_sales = client.get(history, {"person": sales.pk}).text
    one_field = client.get(history, {"feld": "sql_target"}).text

    assert 'data-field="response_time_hours"' in by_sales
    assert 'data-field="sql_target"' not in by_sales
    assert 'data-field="sql_target"' in one_field
    assert 'data-field="response_time_hours"' not in one_field


def test_each_field_of_a_step_links_to_its_history(client, demo_agreement):
    login(client, "sales")

    page = client.get(step_url(demo_agreement, "ziele")).text

    history = reverse("agreement_history", args=[demo_agreement.pk])
    assert f'href="{history}?feld=sql_target"' in page


def _many(agreement, saves: int, comments: int):
    from django.db import transaction

    from agreements.audit import RequestMeta, audit_record

    people = users(agreement)
    with transaction.atomic():
        for n in range(saves):
            audit_record(
                agreement=agreement,
                action=AuditAction.STEP_SAVED,
                actor=people[Role.MARKETING if n % 2 else Role.SALES],
                meta=RequestMeta(),
                details={
                    "step": "ziele",
                    "fields": ["sql_target"],
                    "changes": [{"field": "sql_target", "old": n, "new": n + 1}],
                },
            )
    threads = [
        Thread.objects.create(agreement=agreement, section="7", created_at=timezone.now())
        for _ in range(max(1, comments // 4))
    ]
    Comment.objects.bulk_create(
        Comment(
            thread=threads[n % len(threads)],
            author=people[Role.SALES],
            author_name="Marco Brunner",
            body=f"Kommentar {n}",
            created_at=timezone.now(),
        )
        for n in range(comments)
    )


def test_the_history_page_needs_as_many_queries_for_many_saves_as_for_few(
    client, demo_agreement, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, "management")
    few = Agreement.objects.create(organisation=demo_agreement.organisation)
    many = Agreement.objects.create(organisation=demo_agreement.organisation)
    _many(few, 5, 5)
    _many(many, 120, 80)
    client.get(reverse("agreement_history", args=[few.pk]))  # session and caches warm

    with CaptureQueriesContext(connection) as queries:
        small = client.get(reverse("agreement_history", args=[few.pk]))
    with django_assert_num_queries(len(queries)):
        large = client.get(reverse("agreement_history", args=[many.pk]))

    assert small.status_code == large.status_code == 200
    assert large.text.count('data-field="sql_target"') == HISTORY_PAGE_SIZE  # one page
    assert "Kommentar 79" in large.text


def test_a_long_history_comes_in_pages_that_keep_the_filter(client, demo_agreement):
    login(client, "management")
    long = Agreement.objects.create(organisation=demo_agreement.organisation)
    saves = 2 * HISTORY_PAGE_SIZE + 30
    _many(long, saves, 0)  # by sales and marketing in turn
    history = reverse("agreement_history", args=[long.pk])
    sales = users(demo_agreement)[Role.SALES]

    first = client.get(history).text
    last = client.get(history, {"page": 3}).text
    beyond = client.get(history, {"page": 99}).text  # the last page, not an error
    of_sales = client.get(history, {"person": sales.pk, "page": 2}).text

    def rows(page: str) -> int:
        return page.count("<tr data-field=")

    assert (rows(first), rows(last), rows(beyond)) == (HISTORY_PAGE_SIZE, 30, 30)
    assert f"Änderungen {2 * HISTORY_PAGE_SIZE + 1}–{saves} von {saves}" in last
    assert "<del>0</del>" in first and "<del>0</del>" not in last  # oldest first
    assert 'href="?page=2"' in first
    # Sales made 115 of the changes: 15 on their second page, whose links keep the filter.
    assert rows(of_sales) == 15
    assert f'href="?person={sales.pk}&amp;page=1"' in of_sales


# --- What changed since the last view, and signing ------------------------------------------


def _change_figure_and_submit(client, agreement, value="70"):
    """Marketing changes §7's figure and submits; sales had read the draft before."""
    client.logout()
    login(client, "marketing")
    client.post(step_url(agreement, "ziele"), goals_data(fresh(agreement), sql_target=value))
    client.logout()
    return submit_agreement(fresh(agreement))


def test_the_sign_page_shows_what_changed_since_the_last_view(client, demo_agreement):
    login(client, "sales")
    client.get(reverse("agreement_detail", args=[demo_agreement.pk]))  # sales reads 65
    _change_figure_and_submit(client, demo_agreement)
    login(client, "sales")

    page = client.get(reverse("agreement_sign", args=[demo_agreement.pk])).text
    again = client.get(reverse("agreement_sign", args=[demo_agreement.pk])).text

    assert "Seit Ihrer letzten Ansicht geändert" in page
    table = page.split('id="changed-since"')[1].split("</section>")[0]
    assert "Anzahl SQL" in table and "<del>65</del>" in table and "<ins>70</ins>" in table
    assert "Anna Keller" in table
    assert "Seit Ihrer letzten Ansicht geändert" not in again


def test_a_signature_is_refused_until_the_change_was_shown(client, demo_agreement):
    login(client, "sales")
    client.get(reverse("agreement_detail", args=[demo_agreement.pk]))
    submitted = _change_figure_and_submit(client, demo_agreement)
    login(client, "sales")
    data = {
        "password": "demo",
        "typed_name": "Marco Brunner",
        "consent": "on",
        "content_sha256": submitted.content_sha256,  # the right hash, but never shown
    }

    refused = client.post(reverse("agreement_sign", args=[submitted.pk]), data)
    signed = client.post(reverse("agreement_sign", args=[submitted.pk]), data)

    assert refused.status_code == 409
    assert "seit Ihrer letzten Ansicht geändert" in refused.text
    assert "<ins>70</ins>" in refused.text  # the refusal shows the change
    assert signed.status_code == 302
    assert Signature.objects.valid().filter(agreement=submitted, party=Party.SALES).exists()


def test_the_review_page_shows_the_changes_since_the_last_view(client, demo_agreement):
    login(client, "sales")
    client.get(step_url(demo_agreement, "pruefen"))
    client.logout()
    login(client, "marketing")
    client.post(step_url(demo_agreement, "ziele"), goals_data(demo_agreement, sql_target="70"))
    client.logout()
    login(client, "sales")

    page = client.get(step_url(demo_agreement, "pruefen")).text

    assert "Seit Ihrer letzten Ansicht geändert" in page and "<ins>70</ins>" in page


# --- Submission with open comments; the signed PDF ------------------------------------------


def test_submitting_with_open_threads_asks_first_and_the_trail_records_it(client, demo_agreement):
    people = users(demo_agreement)
    thread_open(agreement=demo_agreement, section="7", user=people[Role.SALES], body="Offen")
    login(client, "marketing")
    review = client.get(step_url(demo_agreement, "pruefen")).text
    submit = reverse("agreement_submit", args=[demo_agreement.pk])
    revision = fresh(demo_agreement).revision

    refused = client.post(submit, {"revision": revision}, follow=True)
    status_after_refusal = fresh(demo_agreement).status
    client.post(submit, {"revision": revision, "confirm_open_threads": "1"})

    assert 'id="open-threads"' in review and 'name="confirm_open_threads"' in review
    assert status_after_refusal == AgreementStatus.DRAFT
    assert "noch 1 Diskussion offen" in refused.text
    assert fresh(demo_agreement).status == AgreementStatus.AWAITING_SIGNATURES
    event = AuditEvent.objects.filter(agreement=demo_agreement).latest("sequence")
    assert event.action == AuditAction.SUBMITTED
    assert event.details["open_threads"] == 1 and event.details["open_threads_confirmed"]


def test_the_signed_pdf_says_how_many_threads_and_whether_all_were_resolved(demo_agreement):
    people = users(demo_agreement)
    for section in ("6", "7"):
        thread_open(
            agreement=demo_agreement, section=section, user=people[Role.SALES], body="Zu hoch?"
        )
    Thread.objects.filter(section="6").update(resolved_at=timezone.now())
    agreement_submit(
        agreement=demo_agreement,
        user=people[Role.MARKETING],
        meta=make_request_meta(),
        open_threads_confirmed=True,
    )
    for party in Party:
        sign_agreement(demo_agreement, party)

    signed = fresh(demo_agreement)
    inputs = signed_render_inputs(signed)
    pdf = render_agreement_pdf(signed, **inputs)

    assert (inputs["audit_page"].comment_threads, inputs["audit_page"].open_threads) == (2, 1)
    audit_page = pages(pdf)[-1]
    assert "Diskussionen im Entwurf 2, davon 1 nicht erledigt" in " ".join(audit_page.split())
    assert "Zu hoch?" not in body_text(pdf)  # their content stays in the portal


# --- Renewal --------------------------------------------------------------------------------


def test_a_renewal_starts_without_comments_and_links_the_predecessors(client, demo_agreement):
    people = users(demo_agreement)
    thread_open(agreement=demo_agreement, section="7", user=people[Role.SALES], body="Alt")
    agreement_submit(
        agreement=demo_agreement,
        user=people[Role.MARKETING],
        meta=make_request_meta(),
        open_threads_confirmed=True,
    )
    for party in Party:
        sign_agreement(demo_agreement, party)
    successor = agreement_renew(
        agreement=fresh(demo_agreement), user=people[Role.MARKETING], meta=make_request_meta()
    )
    login(client, "sales")

    page = client.get(reverse("agreement_history", args=[successor.pk])).text

    assert not Thread.objects.filter(agreement=successor).exists()
    assert Thread.objects.filter(agreement=demo_agreement).count() == 1
    assert reverse("agreement_history", args=[demo_agreement.pk]) + "#threads" in page


def test_the_history_page_in_english(client, demo_agreement):
    login(client, "sales")
    client.cookies["django_language"] = "en"

    page = client.get(reverse("agreement_history", args=[demo_agreement.pk])).text

    assert '<h1 class="h3">History</h1>' in page
