"""A submitted or signed agreement cannot change, by any path; the workflow still works.

The paths: the wizard and the admin (tests/test_wizard.py, tests/test_admin.py and the
access matrix), ``Agreement.save()``, ``QuerySet.update()``, the further definitions,
and raw SQL, which on PostgreSQL the triggers of migration 0004 refuse. A tampered
stored PDF is refused on download (tests/test_pdf_store.py); a change made past every
guard is caught by the content hash and the audit chain (tests/test_workflow.py,
tests/test_audit.py, with ``factories.tamper``).
"""

import importlib
import os

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from agreements.archive import signed_pdf_store
from agreements.audit import RequestMeta, audit_record, audit_verify
from agreements.enums import AgreementStatus, AuditAction, Party
from agreements.models import (
    Agreement,
    AgreementFrozen,
    AuditEvent,
    FurtherDefinition,
    Signature,
)
from agreements.workflow import agreement_renew

from .factories import make_request_meta, sign_agreement, submit_agreement

STATES = ("awaiting", "signed", "superseded")
# A status each state may not go to (back to draft is the decline's and reopen's way).
FORBIDDEN_TRANSITION = {
    "awaiting": AgreementStatus.SUPERSEDED,
    "signed": AgreementStatus.DRAFT,
    "superseded": AgreementStatus.SIGNED,
}


@pytest.fixture
def agreements(demo_agreement):
    """The demo's 2026 SLA renewed: one agreement in each state after the draft."""
    from agreements.demo import signed_demo_agreement

    predecessor = signed_demo_agreement()
    renewal = agreement_renew(
        agreement=predecessor,
        user=predecessor.marketing_representative,
        meta=make_request_meta(),
    )
    submit_agreement(renewal)
    for party in Party:
        sign_agreement(renewal, party)
    return {
        "draft": None,
        "awaiting": submit_agreement(demo_agreement),
        "signed": Agreement.objects.get(pk=renewal.pk),
        "superseded": Agreement.objects.get(pk=predecessor.pk),
    }


# --- The ORM -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_save_refuses_a_content_change(agreements, state):
    agreement = agreements[state]
    agreement.sql_target = 1

    with pytest.raises(AgreementFrozen, match="content is frozen"):
        agreement.save()
    with pytest.raises(AgreementFrozen):
        agreement.save(update_fields=["sql_target"])

    assert Agreement.objects.get(pk=agreement.pk).sql_target != 1


@pytest.mark.parametrize("state", STATES)
def test_update_refuses_a_content_change(agreements, state):
    agreement = agreements[state]

    with pytest.raises(AgreementFrozen):
        Agreement.objects.filter(pk=agreement.pk).update(definition_sql="alles")

    assert Agreement.objects.get(pk=agreement.pk).definition_sql != "alles"


def test_update_refuses_a_content_change_of_many_rows_if_one_is_frozen(agreements):
    with pytest.raises(AgreementFrozen):
        Agreement.objects.all().update(geographic_unit="überall")

    assert not Agreement.objects.filter(geographic_unit="überall").exists()


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("signed", AgreementStatus.DRAFT),
        ("signed", AgreementStatus.AWAITING_SIGNATURES),
        ("superseded", AgreementStatus.SIGNED),
        ("awaiting", AgreementStatus.SUPERSEDED),
    ],
)
def test_the_status_moves_only_along_the_workflow(agreements, state, status):
    # "Back to draft, edit, signed again" would otherwise pass a content-only guard.
    agreement = agreements[state]

    with pytest.raises(AgreementFrozen, match="cannot go from"):
        Agreement.objects.filter(pk=agreement.pk).update(status=status)
    agreement.status = status
    with pytest.raises(AgreementFrozen, match="cannot go from"):
        agreement.save(update_fields=["status"])


def test_a_draft_is_still_written_freely(demo_agreement):
    Agreement.objects.filter(pk=demo_agreement.pk).update(sql_target=99)
    demo_agreement.refresh_from_db()
    demo_agreement.geographic_unit = "Tessin"
    demo_agreement.save()

    assert Agreement.objects.get(pk=demo_agreement.pk).sql_target == 99
    assert Agreement.objects.get(pk=demo_agreement.pk).geographic_unit == "Tessin"


@pytest.mark.parametrize("state", STATES)
def test_further_definitions_are_frozen_with_their_agreement(agreements, state):
    agreement = agreements[state]
    definition = agreement.further_definitions.first()

    definition.text = "anders"
    with pytest.raises(AgreementFrozen):
        definition.save()
    with pytest.raises(AgreementFrozen):
        FurtherDefinition.objects.filter(pk=definition.pk).update(text="anders")
    with pytest.raises(AgreementFrozen):
        FurtherDefinition(agreement=agreement, term="Neu", text="neu").save()
    with pytest.raises(AgreementFrozen):
        definition.delete()
    with pytest.raises(AgreementFrozen):
        agreement.further_definitions.all().delete()

    assert FurtherDefinition.objects.get(pk=definition.pk).text != "anders"
    assert agreement.content_hash() == agreement.content_sha256


def test_the_whole_workflow_still_works_and_its_trail_verifies(
    demo_agreement, django_capture_on_commit_callbacks
):
    # Submit, decline (back to draft), edit, resubmit, sign twice, store the PDF, renew,
    # sign the renewal (superseding): every write the workflow makes passes the guards.
    agreement = submit_agreement(demo_agreement)
    from agreements.workflow import agreement_decline

    agreement_decline(
        agreement=agreement,
        user=agreement.sales_representative,
        reason="Zu wenig SQL",
        meta=make_request_meta(),
    )
    agreement = Agreement.objects.get(pk=agreement.pk)
    agreement.sql_target = 80
    agreement.save()
    submit_agreement(agreement)
    sign_agreement(agreement, Party.MARKETING)
    with django_capture_on_commit_callbacks(execute=True):
        sign_agreement(agreement, Party.SALES)
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.signed_pdf  # stored by the completion hook
    assert signed_pdf_store(agreement_id=agreement.pk).signed_pdf == agreement.signed_pdf
    renewal = agreement_renew(
        agreement=agreement, user=agreement.marketing_representative, meta=make_request_meta()
    )
    submit_agreement(renewal)
    for party in Party:
        sign_agreement(renewal, party)

    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.SUPERSEDED
    assert Agreement.objects.get(pk=renewal.pk).status == AgreementStatus.SIGNED
    assert audit_verify(agreement).intact
    assert audit_verify(renewal).intact


# --- Raw SQL on PostgreSQL: the triggers of migration 0004 --------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the triggers exist on PostgreSQL only; SQLite is for development",
)


@pytest.fixture
def triggers(db):
    """The triggers of migration 0004, installed in the test's transaction if missing.

    Tests run with migrations in CI (the triggers exist) and with ``--nomigrations``
    locally (they do not): then the migration's own SQL installs them, and the test's
    rollback removes them again.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'agreements_agreement_frozen'")
        if cursor.fetchone() is None:
            migration = importlib.import_module("agreements.migrations.0004_integrity_triggers")
            cursor.execute(migration.CREATE_SQL)


def raw(sql: str, *params) -> None:
    """Run one statement in a savepoint, so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@postgresql_only
@pytest.mark.parametrize("state", STATES)
def test_raw_sql_cannot_change_a_frozen_agreement(triggers, agreements, state):
    agreement = agreements[state]

    with pytest.raises(IntegrityError, match="content is frozen"):
        raw("UPDATE agreements_agreement SET sql_target = 1 WHERE id = %s", agreement.pk)
    with pytest.raises(IntegrityError, match="content is frozen"):
        raw("UPDATE agreements_agreement SET marketing_deputy = 'X' WHERE id = %s", agreement.pk)
    with pytest.raises(IntegrityError, match="no transition"):
        raw(
            "UPDATE agreements_agreement SET status = %s WHERE id = %s",
            FORBIDDEN_TRANSITION[state],
            agreement.pk,
        )
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        raw("DELETE FROM agreements_agreement WHERE id = %s", agreement.pk)
    with pytest.raises(IntegrityError, match="further definitions are frozen"):
        raw(
            "UPDATE agreements_furtherdefinition SET text = 'x' WHERE agreement_id = %s",
            agreement.pk,
        )

    stored = Agreement.objects.get(pk=agreement.pk)
    assert stored.status == agreement.status
    assert stored.content_hash() == stored.content_sha256


@postgresql_only
def test_raw_sql_may_still_change_a_draft(triggers, demo_agreement):
    raw("UPDATE agreements_agreement SET sql_target = 7 WHERE id = %s", demo_agreement.pk)

    assert Agreement.objects.get(pk=demo_agreement.pk).sql_target == 7


@postgresql_only
def test_raw_sql_cannot_replace_the_stored_pdf(triggers, signed_demo):
    with pytest.raises(IntegrityError, match="cannot be replaced"):
        raw(
            "UPDATE agreements_agreement SET signed_pdf_sha256 = %s WHERE id = %s",
            "0" * 64,
            signed_demo.pk,
        )


@postgresql_only
def test_raw_sql_can_only_void_a_signature(triggers, agreements):
    signature = Signature.objects.filter(agreement=agreements["signed"]).first()

    with pytest.raises(IntegrityError, match="only voided once"):
        raw("UPDATE agreements_signature SET typed_name = 'X' WHERE id = %s", signature.pk)
    with pytest.raises(IntegrityError, match="cannot be deleted"):
        raw("DELETE FROM agreements_signature WHERE id = %s", signature.pk)
    raw(
        "UPDATE agreements_signature SET voided_at = %s, void_reason = 'Test' WHERE id = %s",
        timezone.now(),
        signature.pk,
    )
    with pytest.raises(IntegrityError, match="only voided once"):
        raw("UPDATE agreements_signature SET void_reason = 'anders' WHERE id = %s", signature.pk)


@postgresql_only
def test_raw_sql_cannot_change_or_delete_audit_events(triggers, agreements):
    event = AuditEvent.objects.filter(agreement=agreements["signed"]).first()

    with pytest.raises(IntegrityError, match="append-only"):
        raw("UPDATE agreements_auditevent SET actor_name = 'X' WHERE id = %s", event.pk)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM agreements_auditevent WHERE id = %s", event.pk)

    assert audit_verify(agreements["signed"]).intact


@postgresql_only
def test_deleting_a_user_keeps_the_trail(triggers, agreements):
    # SET_NULL on the audit event's actor is the one update the trigger lets through.
    event = AuditEvent.objects.filter(agreement=agreements["signed"], actor__isnull=False).first()

    raw("UPDATE agreements_auditevent SET actor_id = NULL WHERE id = %s", event.pk)

    assert AuditEvent.objects.get(pk=event.pk).actor_name == event.actor_name
    assert audit_verify(agreements["signed"]).intact


@postgresql_only
@pytest.mark.parametrize(
    "table",
    [
        "agreements_auditevent",
        "agreements_signature",
        "agreements_furtherdefinition",
        "agreements_agreement",
    ],
)
def test_raw_sql_cannot_truncate_the_kept_tables(triggers, agreements, table):
    # Row triggers never see TRUNCATE; migration 0011's statement triggers do. The test
    # suite allows it for Django's flush between tests (conftest): not here.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL sla.allow_truncate = 'off'")
        # The test's own deferred foreign-key checks would block TRUNCATE otherwise.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError, match="cannot be truncated"):
        raw(f"TRUNCATE {table} CASCADE")

    assert AuditEvent.objects.filter(agreement=agreements["signed"]).exists()
    assert audit_verify(agreements["signed"]).intact


@postgresql_only
def test_raw_sql_cannot_move_the_audit_head_back(triggers, agreements):
    agreement = agreements["signed"]

    with pytest.raises(IntegrityError, match="audit head cannot move back"):
        raw(
            "UPDATE agreements_agreement SET audit_head_sequence = 1 WHERE id = %s",
            agreement.pk,
        )


@postgresql_only
def test_the_apps_role_of_docs_security_cannot_switch_the_triggers_off(triggers, agreements):
    # docs/security.md: the portal runs as a role that does not own the tables. Such a
    # role works as usual, and cannot do what only the owner can.
    role = f"sla_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    signed = agreements["signed"]

    with transaction.atomic():
        audit_record(
            agreement=signed, action=AuditAction.PDF_DOWNLOADED, actor=None, meta=RequestMeta()
        )
    for statement in (
        "ALTER TABLE agreements_auditevent DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        "TRUNCATE agreements_auditevent CASCADE",  # even with sla.allow_truncate on
    ):
        with pytest.raises(ProgrammingError, match=r"must be owner|permission denied"):
            raw(statement)
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM agreements_auditevent WHERE agreement_id = %s", signed.pk)

    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert audit_verify(signed).intact
