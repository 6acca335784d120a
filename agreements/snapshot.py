"""The canonical content of an agreement: what is frozen on submit and what is signed.

``agreement_snapshot`` turns an agreement into a plain dict of every field that is part
of the document (sections 2 to 11, the funnel, the further definitions in order, the
organisation's name, the representatives' ids and full names, and the framework
document's name and SHA-256). ``canonical_json`` writes it the one way that hashes
reproducibly; ``sha256_hex`` of that text is the agreement's content hash, stored on
submit and compared with the hash each signer saw.

Status, revision, timestamps and the "who changed it" columns are not content: they
change without changing what the parties agree to. The test in tests/test_snapshot.py
lists the content fields, so a field added to ``Agreement`` must be sorted in here
(content, or ``NON_CONTENT_FIELDS``) on purpose.
"""

from __future__ import annotations

import datetime
import hashlib
import json

from .people import display_name

# Fields of Agreement that are not part of what the parties sign.
NON_CONTENT_FIELDS = frozenset(
    {
        "id",
        "organisation",  # represented by its name, below
        "status",
        "revision",
        "renews",
        "framework_document",  # a random storage name; its bytes are hashed instead
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "content_snapshot",
        "content_sha256",
        "submitted_at",
        "completed_at",
        # The sealed PDF is made from the signed content, after signing (agreements.archive).
        "signed_pdf",
        "signed_pdf_sha256",
        "signed_pdf_stored_at",
        # The audit trail's head (agreements.audit), moved by every event.
        "audit_head_sequence",
        "audit_head_hash",
    }
)
REPRESENTATIVE_FIELDS = ("marketing_representative", "sales_representative")

# Raised when the shape of the snapshot changes, so an old snapshot is never compared
# with a new one as if they were the same kind of thing.
SNAPSHOT_VERSION = 1


def canonical_json(value) -> str:
    """The one text form of ``value`` that is hashed: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def agreement_snapshot(agreement, *, framework_document_sha256: str | None = None) -> dict:
    """Every content field of ``agreement`` as JSON-ready values (dates as ISO strings).

    ``framework_document_sha256``: the file's hash when the caller has it (or does not
    want the file read); by default the file is read and hashed.
    """
    snapshot: dict = {"snapshot_version": SNAPSHOT_VERSION}
    for field in type(agreement)._meta.concrete_fields:
        if field.name in NON_CONTENT_FIELDS:
            continue
        if field.name in REPRESENTATIVE_FIELDS:
            user = getattr(agreement, field.name)
            snapshot[field.name] = (
                None if user is None else {"id": user.pk, "full_name": display_name(user)}
            )
            continue
        snapshot[field.name] = _plain(getattr(agreement, field.attname))
    snapshot["organisation"] = agreement.organisation.name
    snapshot["framework_document_sha256"] = (
        _file_sha256(agreement.framework_document)
        if framework_document_sha256 is None
        else framework_document_sha256
    )
    snapshot["further_definitions"] = [
        {"position": d.position, "term": d.term, "text": d.text}
        for d in agreement.further_definitions.order_by("position", "id")
    ]
    # Through JSON and back: the stored snapshot then holds exactly the hashed values.
    return json.loads(canonical_json(snapshot))


def snapshot_sha256(snapshot: dict) -> str:
    return sha256_hex(canonical_json(snapshot))


def agreement_content_sha256(agreement) -> str:
    """The SHA-256 of the agreement's live content (``Agreement.content_hash``)."""
    return snapshot_sha256(agreement_snapshot(agreement))


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # TextChoices members become plain strings
    return value


def _file_sha256(field_file) -> str:
    """The SHA-256 of an attached file's bytes, "" when there is none."""
    if not field_file:
        return ""
    with field_file.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _json_default(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of a canonical snapshot")


# What may change outside the agreement after submission without changing what was
# agreed: the organisation's name and a representative's name (staff correct them in
# the admin). The representatives' ids stay compared.
OUTSIDE_NAMES = ("organisation",)


def content_changes(agreement, *, read_file: bool = True) -> list[str]:
    """The content fields whose live value differs from the frozen snapshot ([] if none).

    Catches a frozen agreement's text changed past every guard (raw SQL with the
    triggers off, or SQLite). ``read_file=False`` trusts the framework document's hash
    in the snapshot instead of reading the file: the agreement page's quick check; the
    full one is ``verify_audit``'s.
    """
    frozen = agreement.content_snapshot
    if frozen is None:
        return []
    live = agreement_snapshot(
        agreement,
        framework_document_sha256=None if read_file else frozen.get("framework_document_sha256"),
    )
    changed = []
    for key in sorted(set(frozen) | set(live)):
        if key in OUTSIDE_NAMES:
            continue
        before, after = frozen.get(key), live.get(key)
        if key in REPRESENTATIVE_FIELDS:
            before = before and before.get("id")
            after = after and after.get("id")
        if before != after:
            changed.append(key)
    return changed
