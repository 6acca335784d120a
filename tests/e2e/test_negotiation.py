"""Negotiating the demo SLA in the browser (issue 21): sales questions §7, marketing answers
and changes the figure, sales sees the change in the history and on the sign page,
resolves the thread, both sign. Submitting with an open thread asks first; a member of
another organisation reaches none of it."""

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.enums import AgreementStatus, AuditAction, Role
from agreements.models import Agreement, AuditEvent, Membership, Organisation
from tests.factories import make_user

from .test_signing import sign


def demo_draft(outside_browser_loop) -> Agreement:
    outside_browser_loop(call_command, "load_demo")  # it seals the signed 2026 demo SLA
    return Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)


def comment_on(page, section: str, text: str) -> None:
    panel = page.locator("#new-thread")
    panel.get_by_label(section).check()
    panel.get_by_label("Neuer Kommentar").fill(text)
    panel.get_by_role("button", name="Kommentieren").click()


def logout(page) -> None:
    page.get_by_role("button", name="Abmelden").click()


def test_a_figure_is_negotiated_in_comments_and_signed(
    page, live_server, login, screenshot, outside_browser_loop
):
    agreement = demo_draft(outside_browser_loop)
    base = f"{live_server.url}/agreements/{agreement.pk}/"

    # Sales reads the draft (65 SQL per quarter) and questions §7 beside its step.
    login("sales")
    page.goto(f"{base}bearbeiten/pruefen/")
    page.goto(f"{base}bearbeiten/ziele/")
    comment_on(page, "§7 Metriken", "65 SQL pro Quartal?\nDas schaffen wir nicht.")
    thread = page.locator(".comment-thread").first
    expect(thread).to_contain_text("Marco Brunner")
    expect(thread.locator(".comment-body")).to_contain_text("Das schaffen wir nicht.")
    expect(thread.locator(".comment-body br")).to_have_count(1)  # the line break kept
    expect(page.locator('[data-comments="ziele"]')).to_contain_text("1")
    logout(page)

    # Marketing replies and lowers the figure.
    login("marketing")
    page.goto(f"{base}bearbeiten/ziele/")
    thread = page.locator(".comment-thread").first
    expect(thread).to_contain_text("Das schaffen wir nicht.")
    thread.get_by_label("Antwort").fill("Einverstanden, 60.")
    thread.get_by_role("button", name="Antworten").click()
    expect(page.locator(".comment-thread").first).to_contain_text("Einverstanden, 60.")
    page.get_by_label("Anzahl SQL").fill("60")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_text("Gespeichert.")).to_be_visible()
    logout(page)

    # Sales sees who changed the figure in the history, one click from the field.
    login("sales")
    page.goto(f"{base}bearbeiten/ziele/")
    page.locator('[data-history-field="sql_target"]').click()
    row = page.locator('#history tr[data-field="sql_target"]').last
    expect(row).to_contain_text("Anna Keller")
    expect(row.locator("del")).to_have_text("65")
    expect(row.locator("ins")).to_have_text("60")
    screenshot("history")

    # Sales resolves the thread beside the step; marketing submits (nothing open).
    page.goto(f"{base}bearbeiten/ziele/")
    page.locator(".comment-thread").first.get_by_role(
        "button", name="Als erledigt markieren"
    ).click()
    expect(page.locator(".comment-thread").first).to_have_attribute("data-resolved", "1")
    logout(page)
    login("marketing")
    page.goto(f"{base}bearbeiten/pruefen/")
    expect(page.locator("#open-threads")).to_have_count(0)
    page.get_by_role("button", name="Zur Unterzeichnung einreichen").click()
    page.wait_for_url(base)
    page.goto(f"{base}unterzeichnen/")
    sign(page, name="Anna Keller")
    page.wait_for_url(base)
    logout(page)

    # Sales last read 65: the sign page shows what changed since, and who changed it.
    login("sales")
    page.goto(f"{base}unterzeichnen/")
    changed = page.locator("#changed-since")
    expect(changed).to_contain_text("Seit Ihrer letzten Ansicht geändert")
    expect(changed).to_contain_text("Anna Keller")
    change = changed.locator("tr").filter(has_text="Anzahl SQL")
    expect(change.locator("del")).to_have_text("65")
    expect(change.locator("ins")).to_have_text("60")
    screenshot("sign-page-changed-since")
    sign(page, name="Marco Brunner")
    page.wait_for_url(base)
    expect(page.locator(".badge").first).to_have_text("Unterzeichnet")

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.sql_target == 60


def test_submitting_with_an_open_thread_asks_first(page, live_server, login, outside_browser_loop):
    agreement = demo_draft(outside_browser_loop)
    base = f"{live_server.url}/agreements/{agreement.pk}/"
    login("sales")
    page.goto(f"{base}bearbeiten/funnel/")
    comment_on(page, "Anhang: Funnel", "Woher kommen die 34’000 Visits?")
    logout(page)

    login("marketing")
    page.goto(f"{base}bearbeiten/pruefen/")
    expect(page.locator("#open-threads")).to_contain_text("Woher kommen die 34’000 Visits?")
    submit = page.get_by_role("button", name="Zur Unterzeichnung einreichen")
    submit.click()  # the confirmation is required: the browser asks for it, nothing is sent
    expect(page.get_by_label("Trotz 1 offener Diskussion einreichen")).to_be_visible()
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.DRAFT
    page.get_by_label("Trotz 1 offener Diskussion einreichen").check()
    submit.click()
    page.wait_for_url(base)

    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.AWAITING_SIGNATURES
    submitted = AuditEvent.objects.filter(agreement=agreement, action=AuditAction.SUBMITTED).get()
    assert submitted.details["open_threads"] == 1
    assert submitted.details["open_threads_confirmed"] is True


def test_another_organisation_reaches_none_of_it(page, live_server, login, outside_browser_loop):
    agreement = demo_draft(outside_browser_loop)
    other = Organisation.objects.create(name="Andere AG")
    Membership.objects.create(
        user=make_user("fremd", password="demo"), organisation=other, role=Role.SALES
    )
    base = f"{live_server.url}/agreements/{agreement.pk}/"

    login("fremd")
    for path in ("verlauf/", "bearbeiten/ziele/", "bearbeiten/pruefen/", "unterzeichnen/"):
        response = page.goto(base + path)
        assert response.status == 404, path
