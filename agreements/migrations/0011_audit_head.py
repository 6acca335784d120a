"""The audit trail's head on the agreement row, and PostgreSQL refusing TRUNCATE.

Written partly by hand. ``audit_head_sequence`` and ``audit_head_hash`` name the last
event of the agreement's trail; ``agreements.audit.audit_record`` moves them with every
event, and ``audit_verify`` reports a trail that no longer reaches them (events deleted
at its end). Existing agreements get the head of the trail as it is now.

On PostgreSQL:
- the agreement's trigger function (migration 0004) lets the workflow write the head
  after submission too, and refuses moving it back, for any status;
- ``BEFORE TRUNCATE`` triggers refuse emptying the agreements, their definitions, the
  signatures and the audit trail, which row triggers never see. Only a session that set
  ``sla.allow_truncate`` to ``on`` may (the test suite, whose flush between tests
  truncates every table); the app's own role has no TRUNCATE privilege anyway
  (docs/security.md).
"""

import importlib

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

# migration 0004's columns, and the head.
WORKFLOW_COLUMNS = (
    "status",
    "revision",
    "content_snapshot",
    "content_sha256",
    "submitted_at",
    "completed_at",
    "updated_at",
    "signed_pdf",
    "signed_pdf_sha256",
    "signed_pdf_stored_at",
    "audit_head_sequence",
    "audit_head_hash",
    # Checked on their own below: they may only become NULL.
    "created_by_id",
    "updated_by_id",
)
_COLUMNS = "ARRAY[" + ", ".join(f"'{column}'" for column in WORKFLOW_COLUMNS) + "]"

# Migration 0004's function with the head's columns and its one rule (marked "Head").
AGREEMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION agreements_agreement_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Head: the trail's head only moves forward, whatever the status.
    IF TG_OP = 'UPDATE' AND NEW.audit_head_sequence < OLD.audit_head_sequence THEN
        RAISE EXCEPTION 'agreement %: the audit head cannot move back', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'agreement % is %: it cannot be deleted', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('awaiting_signatures', 'draft'),
        ('awaiting_signatures', 'signed'),
        ('signed', 'superseded')
    ) THEN
        RAISE EXCEPTION 'agreement %: no transition from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Every column not named is content: a column added later is frozen too.
    IF (to_jsonb(NEW) - {_COLUMNS}) IS DISTINCT FROM (to_jsonb(OLD) - {_COLUMNS})
        OR (NEW.created_by_id IS DISTINCT FROM OLD.created_by_id AND NEW.created_by_id IS NOT NULL)
        OR (NEW.updated_by_id IS DISTINCT FROM OLD.updated_by_id AND NEW.updated_by_id IS NOT NULL)
    THEN
        RAISE EXCEPTION 'agreement % is %: its content is frozen', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (OLD.status IN ('signed', 'superseded') OR NEW.status <> 'draft')
        AND (NEW.content_snapshot::jsonb, NEW.content_sha256, NEW.submitted_at, NEW.revision)
            IS DISTINCT FROM
            (OLD.content_snapshot::jsonb, OLD.content_sha256, OLD.submitted_at, OLD.revision)
    THEN
        RAISE EXCEPTION 'agreement % is %: its frozen snapshot cannot change', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.completed_at IS DISTINCT FROM NEW.completed_at
        AND NOT (OLD.status = 'awaiting_signatures' AND NEW.status = 'signed')
    THEN
        RAISE EXCEPTION 'agreement %: completed_at is set once, on completion', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.signed_pdf <> '' AND (NEW.signed_pdf, NEW.signed_pdf_sha256, NEW.signed_pdf_stored_at)
        IS DISTINCT FROM (OLD.signed_pdf, OLD.signed_pdf_sha256, OLD.signed_pdf_stored_at)
    THEN
        RAISE EXCEPTION 'agreement %: the stored signed PDF cannot be replaced', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
"""

KEPT_TABLES = (
    "agreements_agreement",
    "agreements_furtherdefinition",
    "agreements_signature",
    "agreements_auditevent",
)

TRUNCATE_SQL = """
CREATE OR REPLACE FUNCTION agreements_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sla.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% cannot be truncated: agreements, signatures and the audit trail are kept',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
""" + "".join(
    f"""
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION agreements_refuse_truncate();
"""
    for table in KEPT_TABLES
)

DROP_TRUNCATE_SQL = "".join(
    f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};\n" for table in KEPT_TABLES
) + "DROP FUNCTION IF EXISTS agreements_refuse_truncate();\n"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AGREEMENT_FUNCTION + TRUNCATE_SQL, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        previous = importlib.import_module("agreements.migrations.0004_integrity_triggers")
        # 0004's function alone: its triggers still exist.
        function = previous.CREATE_SQL.split("CREATE TRIGGER", 1)[0]
        schema_editor.execute(DROP_TRUNCATE_SQL + function, params=None)


def set_heads(apps, schema_editor):
    """Every agreement's head: the last event of its trail as it stands now."""
    Agreement = apps.get_model("agreements", "Agreement")
    AuditEvent = apps.get_model("agreements", "AuditEvent")
    last = AuditEvent.objects.filter(agreement=OuterRef("pk")).order_by("-sequence")
    Agreement.objects.update(
        audit_head_sequence=Coalesce(Subquery(last.values("sequence")[:1]), Value(0)),
        audit_head_hash=Coalesce(Subquery(last.values("hash")[:1]), Value("")),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0010_mail_delivery'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='agreement',
            name='audit_head_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='Hash des letzten Audit-Ereignisses'),
        ),
        migrations.AddField(
            model_name='agreement',
            name='audit_head_sequence',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='Letztes Audit-Ereignis'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['agreement', 'action', 'sequence'], name='audit_event_action'),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
        migrations.RunPython(set_heads, migrations.RunPython.noop, elidable=False),
    ]
