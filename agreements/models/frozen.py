"""The freeze rule: what may still be written to an agreement after its submission.

Plain rules without a query, shared by ``Agreement.save()``, ``AgreementQuerySet.update()``
and, in SQL, by the trigger of migration 0004.
"""

from ..enums import AgreementStatus


class AgreementFrozen(Exception):
    """A write that would change a submitted, signed or superseded agreement's content.

    Raised by ``Agreement.save()`` and ``AgreementQuerySet.update()`` before anything is
    written; on PostgreSQL the trigger of migration 0004 refuses the same in the database,
    for SQL that never passes through the ORM.
    """


# What the workflow (agreements.workflow, agreements.archive) writes after a draft is
# submitted: the status, the frozen snapshot and the sealed PDF. Every other column is
# content, frozen from the submission on; migration 0004's trigger names the same columns.
WORKFLOW_FIELDS = frozenset(
    {
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
        # The trail's head, moved by agreements.audit.audit_record with every event.
        "audit_head_sequence",
        "audit_head_hash",
    }
)

# The only status changes there are (see the diagram in agreements.workflow). Without this
# rule, "back to draft, change, signed again" would pass a guard that only freezes content.
STATUS_TRANSITIONS = frozenset(
    {
        (AgreementStatus.DRAFT, AgreementStatus.AWAITING_SIGNATURES),
        (AgreementStatus.AWAITING_SIGNATURES, AgreementStatus.DRAFT),
        (AgreementStatus.AWAITING_SIGNATURES, AgreementStatus.SIGNED),
        (AgreementStatus.SIGNED, AgreementStatus.SUPERSEDED),
    }
)


def refuse_frozen_write(*, pk, stored_status: str, fields, new_status: str | None) -> None:
    """Raise ``AgreementFrozen`` unless writing ``fields`` to a row in ``stored_status`` is allowed.

    A draft takes any write. After submission only ``WORKFLOW_FIELDS`` may be written, and
    the status only along ``STATUS_TRANSITIONS``.
    """
    if (
        new_status is not None
        and new_status != stored_status
        and (stored_status, new_status) not in STATUS_TRANSITIONS
    ):
        raise AgreementFrozen(
            f"Agreement {pk} cannot go from {stored_status} to {new_status}; "
            "only agreements.workflow changes the status."
        )
    if stored_status == AgreementStatus.DRAFT:
        return
    content = sorted(set(fields) - WORKFLOW_FIELDS)
    if content:
        raise AgreementFrozen(
            f"Agreement {pk} is {stored_status}: its content is frozen "
            f"(refused: {', '.join(content)})."
        )
