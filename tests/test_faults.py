"""When something fails, the portal loses nothing and shows no half-done state.

- The seal (or the render) failing at completion: the agreement stays signed with its
  signatures and no file is written; the PDF's task is retried, and a failure after the
  last retry is shown and logged (tests/test_tasks.py, with the storage faults).
- The database going away in the middle of a request: a clean German error page, and
  what the request was writing is rolled back as a whole (wizard step, workflow step).

The database "goes away" through ``connection.execute_wrapper``, Django's own hook
around every query: from a chosen statement on, each one raises ``OperationalError``, as
a dropped connection does. Nothing of the portal's code is replaced.

A failing mail server: tests/test_workflow.py
(``test_a_mail_server_that_is_down_does_not_undo_the_signature``).
"""

import datetime
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from agreements.enums import AgreementStatus, AuditAction, Party
from agreements.forms import BasicsForm
from agreements.models import Agreement, AuditEvent
from agreements.workflow import agreement_submit

from .factories import make_request_meta, sign_agreement, submit_agreement


def signed_files(settings) -> list[Path]:
    directory = Path(settings.MEDIA_ROOT) / "signed"
    return sorted(directory.iterdir()) if directory.exists() else []


@pytest.fixture
def broken_seal(settings, tmp_path):
    """The seal's key file is missing: sealing fails, as with a lost or unreadable key."""
    key_file = settings.SLA_SEAL_KEY_FILE
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"
    yield
    settings.SLA_SEAL_KEY_FILE = key_file


# --- The PDF at completion -------------------------------------------------------------------


def test_a_failing_seal_leaves_the_agreement_signed_and_no_file(
    demo_agreement, settings, broken_seal, django_capture_on_commit_callbacks
):
    files_before = signed_files(settings)  # the demo's 2026 SLA was signed without a seal too
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)

    with django_capture_on_commit_callbacks(execute=True):
        sign_agreement(demo_agreement, Party.SALES)

    agreement = Agreement.objects.get(pk=demo_agreement.pk)
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.signatures.valid().count() == 2
    assert not agreement.signed_pdf  # its task is retried (tests/test_tasks.py)
    assert signed_files(settings) == files_before == []
    assert not AuditEvent.objects.filter(agreement=agreement, action=AuditAction.PDF_STORED)


# --- The database going away ------------------------------------------------------------------


class DatabaseGone:
    """From the first statement matching ``start``, every statement fails like a lost server."""

    def __init__(self, start: str):
        self.start = start
        self.gone = False

    def __call__(self, execute, sql, params, many, context):
        if self.start in sql:
            self.gone = True
        # The rollback of the failed work still runs: a real server discards an
        # uncommitted transaction by itself, and the test's own transaction must go on.
        if self.gone and not sql.startswith(("ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.fixture
def production_client(settings):
    """A browser against the portal with DEBUG off: errors become the 500 page."""
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_a_lost_database_mid_request_shows_a_clean_german_page(production_client, demo_agreement):
    production_client.force_login(demo_agreement.marketing_representative)
    gone = DatabaseGone('FROM "agreements_agreement"')

    with connection.execute_wrapper(gone):
        response = production_client.get(reverse("agreement_detail", args=[demo_agreement.pk]))

    assert gone.gone  # the session and the user were read; the agreement was not
    assert response.status_code == 500
    assert "Das hat leider nicht geklappt" in response.text
    assert "nichts halb gespeichert" in response.text
    assert "Traceback" not in response.text and "OperationalError" not in response.text


def basics_data(agreement, **changes) -> dict:
    form = BasicsForm(instance=agreement)
    data = {name: form[name].value() for name in form.fields}
    data.update(changes)
    return {
        name: value.strftime("%d.%m.%Y") if isinstance(value, datetime.date) else value
        for name, value in data.items()
        if value is not None
    }


def test_a_wizard_step_is_saved_whole_or_not_at_all(production_client, demo_agreement):
    before = Agreement.objects.get(pk=demo_agreement.pk)
    events_before = AuditEvent.objects.filter(agreement=demo_agreement).count()
    production_client.force_login(demo_agreement.marketing_representative)
    # The step's UPDATE of the agreement runs; the audit event after it fails.
    gone = DatabaseGone('INSERT INTO "agreements_auditevent"')

    with connection.execute_wrapper(gone):
        response = production_client.post(
            reverse("agreement_step", args=[demo_agreement.pk, "grunddaten"]),
            basics_data(demo_agreement, geographic_unit="Romandie"),
        )

    assert gone.gone
    assert response.status_code == 500
    after = Agreement.objects.get(pk=demo_agreement.pk)
    assert after.geographic_unit == before.geographic_unit == "Deutschschweiz"
    assert after.revision == before.revision
    assert AuditEvent.objects.filter(agreement=demo_agreement).count() == events_before


def test_a_workflow_step_is_saved_whole_or_not_at_all(demo_agreement):
    gone = DatabaseGone('INSERT INTO "agreements_auditevent"')

    with pytest.raises(OperationalError), connection.execute_wrapper(gone):
        agreement_submit(
            agreement=demo_agreement,
            user=demo_agreement.marketing_representative,
            meta=make_request_meta(),
        )

    agreement = Agreement.objects.get(pk=demo_agreement.pk)
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.content_sha256 == "" and agreement.content_snapshot is None
    assert not AuditEvent.objects.filter(agreement=agreement, action=AuditAction.SUBMITTED)
