"""What a renewal changed against its predecessor, field by field.

``agreement_diff`` compares every content field of two agreements (the fields that
``agreements.snapshot`` freezes and the parties sign) and the further definitions, and
lists exactly those that differ, with their values formatted the Swiss way: dates
31.12.2027, numbers 34’000, choices by their label. The review step and the agreement
page of a renewal show the list. ``snapshot_diff`` does the same for two frozen
contents (``agreements.snapshot``): what changed since a person last read the SLA.
``history_value`` and ``value_changes`` are what a wizard save records of each changed
field in its audit event, the field history of ``agreements.negotiation.history``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .document import swiss_date
from .fingerprints import FURTHER_DEFINITIONS
from .models import Agreement
from .numbers import format_integer
from .people import display_name
from .snapshot import NON_CONTENT_FIELDS, REPRESENTATIVE_FIELDS

EMPTY = "–"

# The framework document counts as one field: its stored file (a random name, shared by
# a renewal until a new one is uploaded), shown by the name it was uploaded under.
FRAMEWORK_FIELDS = ("framework_document", "framework_document_name")
FRAMEWORK_DOCUMENT = "framework_document"


@dataclass(frozen=True)
class FieldChange:
    """One difference: the field's label and its value before and after, as shown."""

    label: str
    old_display: str
    new_display: str


def diff_fields() -> list[models.Field]:
    """The content fields of ``Agreement`` that the diff compares, in the model's order."""
    return [
        field
        for field in Agreement._meta.concrete_fields
        if field.name not in NON_CONTENT_FIELDS and field.name not in FRAMEWORK_FIELDS
    ]


def agreement_diff(old: Agreement, new: Agreement) -> list[FieldChange]:
    """The changes from ``old`` to ``new``: content fields, framework document, definitions."""
    changes = [
        FieldChange(str(field.verbose_name), display_value(old, field), display_value(new, field))
        for field in diff_fields()
        if getattr(old, field.attname) != getattr(new, field.attname)
    ]
    if old.framework_document.name != new.framework_document.name:
        changes.append(
            FieldChange(
                str(Agreement._meta.get_field("framework_document").verbose_name),
                old.framework_document_name or EMPTY,
                new.framework_document_name or EMPTY,
            )
        )
    changes += _definition_changes(
        {d.term: d.text for d in old.further_definitions.order_by("position", "id")},
        {d.term: d.text for d in new.further_definitions.order_by("position", "id")},
    )
    return changes


def snapshot_diff(old: dict, new: dict) -> list[FieldChange]:
    """The changes between two content snapshots, as ``agreement_diff`` lists them."""
    changes = []
    for field in diff_fields():
        before, after = old.get(field.name), new.get(field.name)
        if before == after:
            continue
        if field.name in REPRESENTATIVE_FIELDS:
            old_display = (before or {}).get("full_name") or EMPTY
            new_display = (after or {}).get("full_name") or EMPTY
        else:
            old_display = snapshot_display(field, before)
            new_display = snapshot_display(field, after)
        changes.append(FieldChange(str(field.verbose_name), old_display, new_display))
    if old.get("framework_document_sha256") != new.get("framework_document_sha256"):
        changes.append(
            FieldChange(
                str(Agreement._meta.get_field("framework_document").verbose_name),
                old.get("framework_document_name") or EMPTY,
                new.get("framework_document_name") or EMPTY,
            )
        )
    changes += _definition_changes(
        {d["term"]: d["text"] for d in old.get("further_definitions", [])},
        {d["term"]: d["text"] for d in new.get("further_definitions", [])},
    )
    return changes


def snapshot_display(field: models.Field, value, probe: Agreement | None = None) -> str:
    """A snapshot's value shown as ``display_value`` shows the field on an agreement.

    ``probe``: an unsaved agreement to put the value on, reused by a caller that shows
    many values (making one costs more than formatting the value).
    """
    if value is not None and isinstance(field, models.DateField):
        value = datetime.date.fromisoformat(value)
    probe = probe or Agreement()
    setattr(probe, field.attname, value)
    return display_value(probe, field)


def _definition_changes(before: dict[str, str], after: dict[str, str]) -> list[FieldChange]:
    """Further definitions by term: added, removed, or with a changed text."""
    changes = []
    for term in [*before, *(t for t in after if t not in before)]:
        old_text, new_text = before.get(term), after.get(term)
        if old_text != new_text:
            changes.append(
                FieldChange(
                    gettext("Weitere Definition «%(term)s»") % {"term": term},
                    old_text or EMPTY,
                    new_text or EMPTY,
                )
            )
    return changes


def display_value(agreement: Agreement, field: models.Field) -> str:
    """The value as the document and the interface show it, "–" when empty."""
    value = getattr(agreement, field.name)
    if value is None or value == "":
        return EMPTY
    if field.choices:
        return str(getattr(agreement, f"get_{field.name}_display")())
    if isinstance(field, models.BooleanField):
        return str(_("ja") if value else _("nein"))
    if isinstance(field, models.DateField):
        return swiss_date(value)
    if isinstance(field, models.ForeignKey):
        return display_name(value)
    if isinstance(value, int):
        return format_integer(value)
    return str(value)


def history_value(agreement: Agreement, name: str):
    """Field ``name`` as the field history stores it: JSON, language-neutral (ISO dates,
    choice keys, a representative's name, the definitions as [term, text] pairs)."""
    if name == FURTHER_DEFINITIONS:
        return [[d.term, d.text] for d in agreement.further_definitions.order_by("position", "id")]
    if name == FRAMEWORK_DOCUMENT:
        return agreement.framework_document_name or ""
    field = Agreement._meta.get_field(name)
    value = getattr(agreement, field.name)
    if isinstance(field, models.ForeignKey):
        return display_name(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    return value


def value_changes(before: dict, after: dict) -> list[dict]:
    """``[{"field", "old", "new"}]`` for each name whose history value differs, in order."""
    return [
        {"field": name, "old": before.get(name, ""), "new": after[name]}
        for name in after
        if before.get(name, "") != after[name]
    ]
