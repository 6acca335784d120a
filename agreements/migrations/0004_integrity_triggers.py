"""Database triggers that keep signed agreements, signatures and the audit trail unchanged.

Written by hand (not by makemigrations). The ORM refuses the same writes
(``Agreement.save``, ``AgreementQuerySet.update``, ``AuditEvent.save``); these triggers
stop SQL that never passes through the ORM: a psql session, a script, a bug in a raw
query. PostgreSQL only: SQLite is for development, where nobody edits the database by
hand. Someone who may disable triggers (a superuser) can still change rows; the audit
chain and the content hash then tell (``verify_audit``, the signing and PDF checks).

- ``agreements_agreement``: once submitted, only the workflow's columns change, and only
  as the workflow changes them: the status along its transitions, the snapshot, its hash
  and the revision only on the way back to draft, ``completed_at`` on completion, the
  sealed PDF once. The row cannot be deleted.
  ``created_by``/``updated_by`` may become NULL, as deleting a user does.
- ``agreements_furtherdefinition``: rows of a non-draft agreement are frozen like it.
- ``agreements_signature``: no DELETE; an UPDATE only voids a valid signature
  (``voided_at``, ``void_reason``), nothing else.
- ``agreements_auditevent``: no UPDATE except ``actor_id`` becoming NULL (a deleted user;
  the name stays in ``actor_name``, which is hashed), no DELETE.

Every refusal raises SQLSTATE 23000, which Django reports as ``IntegrityError``.
"""

from django.db import migrations

# The columns agreements.workflow and agreements.archive write after submission; keep in
# step with agreements.models.WORKFLOW_FIELDS.
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
    # Checked on their own below: they may only become NULL.
    "created_by_id",
    "updated_by_id",
)
_COLUMNS = "ARRAY[" + ", ".join(f"'{column}'" for column in WORKFLOW_COLUMNS) + "]"

CREATE_SQL = f"""
CREATE OR REPLACE FUNCTION agreements_agreement_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
    -- The frozen snapshot and its hash: cleared only on the way back to draft (decline,
    -- reopen); completed_at is set on the way to signed. Once signed, all stay.
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
    -- The sealed PDF is stored once; its name and hash never change afterwards.
    IF OLD.signed_pdf <> '' AND (NEW.signed_pdf, NEW.signed_pdf_sha256, NEW.signed_pdf_stored_at)
        IS DISTINCT FROM (OLD.signed_pdf, OLD.signed_pdf_sha256, OLD.signed_pdf_stored_at)
    THEN
        RAISE EXCEPTION 'agreement %: the stored signed PDF cannot be replaced', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER agreements_agreement_frozen
    BEFORE UPDATE OR DELETE ON agreements_agreement
    FOR EACH ROW EXECUTE FUNCTION agreements_agreement_frozen();

CREATE OR REPLACE FUNCTION agreements_furtherdefinition_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    agreement_status text;
BEGIN
    SELECT status INTO agreement_status FROM agreements_agreement
        WHERE id = COALESCE(OLD.agreement_id, NEW.agreement_id);
    IF agreement_status IS NULL OR agreement_status = 'draft' THEN
        -- A draft's definitions, or the cascade of a draft being deleted.
        IF TG_OP = 'UPDATE' AND NEW.agreement_id <> OLD.agreement_id THEN
            SELECT status INTO agreement_status FROM agreements_agreement
                WHERE id = NEW.agreement_id;
            IF agreement_status <> 'draft' THEN
                RAISE EXCEPTION 'agreement % is %: its further definitions are frozen',
                    NEW.agreement_id, agreement_status
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        END IF;
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'agreement % is %: its further definitions are frozen',
        COALESCE(OLD.agreement_id, NEW.agreement_id), agreement_status
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER agreements_furtherdefinition_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON agreements_furtherdefinition
    FOR EACH ROW EXECUTE FUNCTION agreements_furtherdefinition_frozen();

CREATE OR REPLACE FUNCTION agreements_signature_void_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'signature % cannot be deleted; void it instead', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL
        AND (to_jsonb(NEW) - ARRAY['voided_at', 'void_reason'])
            = (to_jsonb(OLD) - ARRAY['voided_at', 'void_reason'])
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'signature % cannot be changed, only voided once', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER agreements_signature_void_only
    BEFORE UPDATE OR DELETE ON agreements_signature
    FOR EACH ROW EXECUTE FUNCTION agreements_signature_void_only();

CREATE OR REPLACE FUNCTION agreements_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id')
    THEN
        RETURN NEW;  -- the actor's account was deleted; actor_name keeps who it was
    END IF;
    RAISE EXCEPTION 'audit event % is append-only: % refused', OLD.id, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER agreements_auditevent_append_only
    BEFORE UPDATE OR DELETE ON agreements_auditevent
    FOR EACH ROW EXECUTE FUNCTION agreements_auditevent_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS agreements_auditevent_append_only ON agreements_auditevent;
DROP FUNCTION IF EXISTS agreements_auditevent_append_only();
DROP TRIGGER IF EXISTS agreements_signature_void_only ON agreements_signature;
DROP FUNCTION IF EXISTS agreements_signature_void_only();
DROP TRIGGER IF EXISTS agreements_furtherdefinition_frozen ON agreements_furtherdefinition;
DROP FUNCTION IF EXISTS agreements_furtherdefinition_frozen();
DROP TRIGGER IF EXISTS agreements_agreement_frozen ON agreements_agreement;
DROP FUNCTION IF EXISTS agreements_agreement_frozen();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_SQL, params=None)  # no %-interpolation: RAISE uses %


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0003_signed_pdf"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
