"""The agreement page while the signed PDF is made, and the download once a worker stored it.

No reload: the page's script (static/js/pdf-state.js) asks for the PDF button anew until
the task worker, a real ``manage.py task_worker`` process, has stored the PDF.
"""

from django.core.management import call_command
from playwright.sync_api import expect

from agreements.enums import Party
from agreements.models import Agreement
from tests.factories import sign_agreement, submit_agreement
from tests.workers import DATABASE_TASKS, WorkerProcess


def test_the_download_appears_by_itself_once_the_worker_has_stored_the_pdf(
    page, live_server, login, screenshot, outside_browser_loop, settings, tmp_path
):
    settings.TASKS = DATABASE_TASKS
    outside_browser_loop(call_command, "load_demo")  # it seals the signed 2026 demo SLA
    agreement = Agreement.objects.get(organisation__name="Muster AG", start_date__year=2027)
    submit_agreement(agreement)
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)  # commits: the PDF's task waits for a worker

    login("management")
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    state = page.locator("#pdf-state")
    expect(state).to_have_attribute("role", "status")
    expect(state).to_contain_text("PDF wird erstellt")
    expect(page.get_by_role("link", name="PDF herunterladen")).to_have_count(0)
    screenshot("being-made")

    worker = WorkerProcess(tmp_path / "worker.log").start()
    try:
        download = page.get_by_role("link", name="PDF herunterladen")
        expect(download).to_be_visible(timeout=90_000)
    finally:
        worker.stop()
    screenshot("stored")

    with page.expect_download() as event:
        download.click()
    assert event.value.suggested_filename == "SLA_Muster-AG_2027_unterzeichnet.pdf"
    assert Agreement.objects.get(pk=agreement.pk).signed_pdf
