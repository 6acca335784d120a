"""The history of every field of a draft, read from the audit trail.

One source of truth: each save of a wizard step writes one ``step_saved`` audit event
(``agreements.wizard.agreement_save_step``) whose details list, per changed field, the
old and the new value (``changes``, made by ``diff.value_changes``). The trail is
hash-chained, so the history cannot be edited without the chain saying so, and it needs
no second table that could disagree with the evidence. Values are stored raw and
language-neutral (ISO dates, choice keys, a representative's name) and formatted the
Swiss way when shown.

Why not django-simple-history: it would copy the whole agreement row (a hundred
columns) on every save into a table beside the trail, unchained, and the "who changed
what" would then exist twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

from ..diff import EMPTY, FRAMEWORK_DOCUMENT, snapshot_display
from ..enums import AuditAction
from ..fingerprints import FURTHER_DEFINITIONS
from ..models import Agreement, AuditEvent


def field_label(name: str) -> str:
    if name == FURTHER_DEFINITIONS:
        return gettext("Weitere Definitionen")
    try:
        return str(Agreement._meta.get_field(name).verbose_name)
    except Exception:  # a field since removed: its name still tells what it was
        return name


def display_raw(name: str, raw, probe: Agreement | None = None) -> str:
    """A stored raw value as the interface shows it: 31.12.2027, 34’000, a choice's label.

    ``probe``: see ``diff.snapshot_display``.
    """
    if raw in ("", None, []):
        return EMPTY
    if name == FURTHER_DEFINITIONS:
        return "; ".join(f"{term}: {text}" for term, text in raw)
    if name == FRAMEWORK_DOCUMENT:
        return str(raw)
    try:
        field = Agreement._meta.get_field(name)
    except Exception:
        return str(raw)
    if isinstance(field, models.ForeignKey):
        return str(raw)
    return snapshot_display(field, raw, probe)


@dataclass(frozen=True)
class HistoryRow:
    """One change of one field: who, when, from what to what."""

    event: AuditEvent
    when: str  # the event's time, local, "31.12.2027 14:05"
    step: str
    step_title: str
    field: str
    label: str
    old: str
    new: str

    @property
    def actor_name(self) -> str:
        return self.event.actor_name


HISTORY_ACTIONS = (AuditAction.CREATED, AuditAction.STEP_SAVED)


def history_events(agreement: Agreement):
    """The trail's events that carry field changes, oldest first (one query)."""
    return AuditEvent.objects.filter(
        agreement_id=agreement.pk, action__in=HISTORY_ACTIONS
    ).order_by("sequence")


def history_rows(
    events, *, steps: dict[str, str], person: int | None = None, field: str = ""
) -> list[HistoryRow]:
    """Every recorded field change in ``events``, by step (in ``steps``' order: slug ->
    title) and field, each field's changes oldest first; optionally of one person or
    one field. Saves from before the history was recorded name their fields only; they
    show as a change without values.
    """
    rows = []
    probe = Agreement()
    for event in events:
        if person is not None and event.actor_id != person:
            continue
        details = event.details or {}
        step = details.get("step", "")
        # Formatted once per event, not per row: a page may list thousands of changes.
        when = timezone.localtime(event.created_at).strftime("%d.%m.%Y %H:%M")
        changes = details.get("changes")
        if changes is None:
            changes = [{"field": name} for name in details.get("fields", [])]
        for change in changes:
            name = change["field"]
            if field and name != field:
                continue
            rows.append(
                HistoryRow(
                    event=event,
                    when=when,
                    step=step,
                    step_title=str(steps.get(step, step)),
                    field=name,
                    label=field_label(name),
                    old=display_raw(name, change["old"], probe) if "old" in change else "…",
                    new=display_raw(name, change["new"], probe) if "new" in change else "…",
                )
            )
    order = {slug: index for index, slug in enumerate(steps)}
    rows.sort(key=lambda row: (order.get(row.step, len(order)), row.label, row.event.sequence))
    return rows
