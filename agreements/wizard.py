"""The authoring wizard: its steps, and saving a step without losing anyone's work.

The database is the draft's only storage: every "Weiter" or "Speichern" writes what the
author changed in the step. Marketing and Sales edit the same draft, often at the same
time: a save is refused only for a field that someone else changed too since the
author's page was loaded (``EditConflict``, per field, see ``agreements.fingerprints``);
the author then sees both values and chooses. Every other change of both goes through.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import forms
from .audit import RequestMeta, audit_record
from .diff import FRAMEWORK_DOCUMENT, history_value, value_changes
from .document import SlaDocument
from .enums import AuditAction, Party
from .fingerprints import (
    FURTHER_DEFINITIONS,
    canonical,
    definitions_value,
    fingerprint,
    stored_value,
)
from .models import Agreement, FurtherDefinition
from .permissions import content_editable, role_in
from .uploads import framework_document_remove, framework_document_replace


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    sections: str  # which sections of the SLA the step fills
    form_class: type[forms.StepForm] | None
    intro: str = ""
    anchor: str = ""  # the id of the first section it fills in document.html


STEPS = (
    Step(
        "grunddaten",
        _("Grunddaten & Geltungsbereich"),
        _("Abschnitte 1 und 2"),
        forms.BasicsForm,
        _("Für welchen Zeitraum und welchen Bereich der Firma gilt das SLA?"),
        "sla-2",
    ),
    Step(
        "parteien",
        _("Parteien"),
        _("Abschnitt 3 und Unterschriften"),
        forms.PartiesForm,
        _("Wer vertritt Marketing und Sales und unterzeichnet das SLA?"),
        "sla-3",
    ),
    Step(
        "rahmen",
        _("Rahmen"),
        _("Abschnitt 4"),
        forms.FrameworkForm,
        _("Das Inbound Marketing & Sales System, auf dem das SLA aufbaut."),
        "sla-4",
    ),
    Step(
        "definitionen",
        _("Definitionen"),
        _("Abschnitt 5"),
        forms.DefinitionsForm,
        _("Die Begriffe, die Marketing und Sales gemeinsam definieren."),
        "sla-5",
    ),
    Step(
        "ziele",
        _("Zielsetzungen & Metriken"),
        _("Abschnitte 6 und 7"),
        forms.GoalsForm,
        _("Was Marketing an Sales übergibt, wie schnell Sales reagiert und was gemessen wird."),
        "sla-6",
    ),
    Step(
        "verantwortung",
        _("Verantwortung"),
        _("Abschnitt 8"),
        forms.ResponsibilitiesForm,
        _("Wer auf beiden Seiten für die Zielerreichung verantwortlich ist."),
        "sla-8",
    ),
    Step(
        "reporting",
        _("Reporting & Erneuerung"),
        _("Abschnitte 9, 10 und 11"),
        forms.ReportingForm,
        _("Wie berichtet wird, wie oft sich die Teams austauschen und wann das SLA erneuert wird."),
        "sla-9",
    ),
    Step(
        "funnel",
        _("Funnel (Anhang)"),
        _("Anhang"),
        forms.FunnelForm,
        _("Die Zahlen des Inbound Funnels; die Conversion Rates ergeben sich daraus."),
        "sla-appendix",
    ),
    Step("pruefen", _("Prüfen"), _("ganzes Dokument"), None),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
REVIEW = STEP_BY_SLUG["pruefen"]

# The step that fills each field, read from the step forms' own ``Meta.fields``: a field
# moved to another form moves its step with it. The organisation is chosen when the SLA
# is created, on the first step (``NewAgreementForm``).
STEP_OF_FIELD = {
    "organisation": STEPS[0],
    **{
        name: step
        for step in STEPS
        if step.form_class
        for name in (*step.form_class._meta.fields, *step.form_class.compared_extra)
    },
}


class UnknownStep(LookupError):
    """No step of the wizard has this slug."""


def get_step(slug: str) -> Step:
    try:
        return STEP_BY_SLUG[slug]
    except KeyError:
        raise UnknownStep(slug) from None


def step_of(slot) -> Step:
    """The step in which an author fills a slot of the document (``document.Slot``)."""
    return STEP_OF_FIELD[slot.field]


def neighbours(step: Step) -> tuple[Step | None, Step | None]:
    index = STEPS.index(step)
    previous = STEPS[index - 1] if index else None
    following = STEPS[index + 1] if index + 1 < len(STEPS) else None
    return previous, following


@dataclass(frozen=True)
class StepState:
    step: Step
    missing: int  # values of this step still missing; 0 means complete

    @property
    def complete(self) -> bool:
        return not self.missing


def step_states(doc: SlaDocument) -> list[StepState]:
    missing_by_step: dict[str, int] = {}
    for slot in doc.missing:
        slug = step_of(slot).slug
        missing_by_step[slug] = missing_by_step.get(slug, 0) + 1
    return [StepState(step, missing_by_step.get(step.slug, 0)) for step in STEPS if step.form_class]


def first_open_step(doc: SlaDocument) -> Step:
    """Where an author resumes: the first step with something missing, else the review."""
    for state in step_states(doc):
        if not state.complete:
            return state.step
    return REVIEW


class NotEditable(Exception):
    """The agreement left the draft state while the author was typing."""

    def __init__(self, current: Agreement):
        super().__init__(f"agreement {current.pk} is {current.status}")
        self.current = current


class EditConflict(Exception):
    """Fields the author changed that someone else changed too since the page was loaded.

    ``conflicts`` maps each such field to the fingerprint of the value stored now: the
    author sees both values and chooses (``Resolution``); nothing was saved.
    """

    def __init__(self, current: Agreement, conflicts: dict[str, str]):
        super().__init__(f"agreement {current.pk}: {', '.join(conflicts)} changed meanwhile")
        self.current = current
        self.conflicts = conflicts


@dataclass(frozen=True)
class Resolution:
    """The author's choice for a conflicting field: their value, or the one stored.

    ``seen`` is the fingerprint of the stored value they chose against: if it changed
    once more before the save, they are asked again.
    """

    keep_mine: bool
    seen: str


@dataclass(frozen=True)
class DefinitionInput:
    """One further definition as the author left it (``pk`` None for a new one)."""

    pk: int | None
    term: str
    text: str


# The three-way decision for one field (see agreements.fingerprints).
WRITE, KEEP, CONFLICT = "write", "keep", "conflict"


def _decide(*, posted: str, stored: str, loaded: str | None, resolution: Resolution | None):
    if posted == stored:
        return KEEP  # nothing to write, whoever changed what
    if resolution is not None and resolution.seen == stored:
        return WRITE if resolution.keep_mine else KEEP
    if loaded is None or loaded == stored:
        # Only the author changed it; or their page did not say what it showed (a form
        # from before field-level checks), and the save goes through as it always did.
        return WRITE
    if loaded == posted:
        return KEEP  # only someone else changed it: their value stays
    return CONFLICT


def _prefill_responsibles(agreement: Agreement, parties) -> list[str]:
    """Section 8 names a party's new representative, unless an author wrote someone already."""
    filled = []
    for party in parties:
        name = f"{party.value}_responsible"
        representative = agreement.representative(party)
        if not getattr(agreement, name) and representative and representative.get_full_name():
            setattr(agreement, name, representative.get_full_name())
            filled.append(name)
    return filled


def _check_combination(agreement: Agreement, written: list[str]) -> None:
    """Refuse what the author's values and the values stored now do not allow together.

    The form checked the author's values against the page they loaded; someone else may
    have changed another field since (a later start date against the author's end date).
    Rules about fields this save leaves alone are not the author's to fix here.
    """
    errors = {}
    try:
        agreement.clean()
    except ValidationError as error:
        errors = {name: e for name, e in error.update_error_dict({}).items() if name in written}
    try:
        agreement.validate_constraints()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def agreement_create(*, organisation, values: dict, user, meta: RequestMeta) -> Agreement:
    """A new draft from the first step's cleaned values, with the creator as representative.

    Raises ``ValidationError`` when the values do not fit together.
    """
    agreement = Agreement(organisation=organisation, **values)
    agreement.created_by = agreement.updated_by = user
    role = role_in(user, organisation.pk, fresh=True)
    if role in Party.values:
        setattr(agreement, f"{Party(role).value}_representative", user)
    _prefill_responsibles(agreement, Party)
    agreement.full_clean()
    agreement.save()
    filled = [name for name, value in values.items() if value not in (None, "")]
    audit_record(
        agreement=agreement,
        action=AuditAction.CREATED,
        actor=user,
        meta=meta,
        details={
            "step": STEPS[0].slug,
            "fields": filled,
            "changes": value_changes({}, {name: history_value(agreement, name) for name in filled}),
        },
    )
    return agreement


def agreement_save_step(
    *,
    agreement: Agreement,
    step: Step,
    values: dict,
    loaded: dict[str, str],
    user,
    meta: RequestMeta,
    definitions: list[DefinitionInput] | None = None,
    resolutions: dict[str, Resolution] | None = None,
    upload=None,
    remove_upload: bool = False,
) -> Agreement:
    """Store what the author changed in one step of a draft, unless it overlaps.

    ``values`` are the step's cleaned values, ``loaded`` the fingerprints of the values
    their page was loaded with. Per field: written if only the author changed it, kept
    if only someone else did, and an ``EditConflict`` (nothing saved) if both did,
    unless ``resolutions`` says which one wins. Only the changed fields are written,
    under a row lock; a save that changes nothing writes nothing. ``definitions`` are
    the further definitions of section 5, in order; ``upload`` and ``remove_upload`` the
    framework document of section 4. Raises ``NotEditable`` once the agreement is no
    draft, ``ValidationError`` when the result would not fit together (a start date
    someone else moved past the author's end date).
    """
    resolutions = resolutions or {}
    with transaction.atomic():
        current = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if not content_editable(current):
            raise NotEditable(current)
        # name -> (posted, stored), canonical; the further definitions as one list.
        compared = {
            name: (canonical(Agreement._meta.get_field(name), value), stored_value(current, name))
            for name, value in values.items()
        }
        if definitions is not None:
            stored_definitions = list(current.further_definitions.all())
            compared[FURTHER_DEFINITIONS] = (
                definitions_value((d.term, d.text) for d in definitions),
                definitions_value((d.term, d.text) for d in stored_definitions),
            )
        written, conflicts = [], {}
        for name, (posted, stored) in compared.items():
            stored_print = fingerprint(stored)
            verdict = _decide(
                posted=fingerprint(posted),
                stored=stored_print,
                loaded=loaded.get(name),
                resolution=resolutions.get(name),
            )
            if verdict == CONFLICT:
                conflicts[name] = stored_print
            elif verdict == WRITE:
                written.append(name)
        if conflicts:
            raise EditConflict(current, conflicts)  # ``current`` as stored: nothing applied
        new_definitions = definitions if FURTHER_DEFINITIONS in written else None
        written = [name for name in written if name != FURTHER_DEFINITIONS]
        # The values before, for the field history in the audit event.
        before = {name: history_value(current, name) for name in [*written, FRAMEWORK_DOCUMENT]}
        if new_definitions is not None:
            before[FURTHER_DEFINITIONS] = history_value(current, FURTHER_DEFINITIONS)
        for name in written:
            setattr(current, name, values[name])

        named = [party for party in Party if f"{party.value}_representative" in written]
        written += _prefill_responsibles(current, named)
        if written:
            _check_combination(current, written)
        columns = list(written)
        if new_definitions is not None:
            _save_further_definitions(current, stored_definitions, new_definitions)
            written.append(FURTHER_DEFINITIONS)
        if upload is not None:
            framework_document_replace(agreement=current, uploaded_file=upload)
            written.append("framework_document")
        elif remove_upload and current.framework_document:
            framework_document_remove(agreement=current)
            written.append("framework_document")
        if not written:
            return current
        current.revision += 1
        current.updated_by = user
        current.save(update_fields=[*columns, "revision", "updated_by", "updated_at"])
        # The event names what changed, with the old and the new value: the field
        # history is the trail's (agreements.negotiation.history), hash-chained with it.
        audit_record(
            agreement=current,
            action=AuditAction.STEP_SAVED,
            actor=user,
            meta=meta,
            details={
                "step": step.slug,
                "revision": current.revision,
                "fields": written,
                "changes": value_changes(
                    before, {name: history_value(current, name) for name in written}
                ),
            },
        )
    return current


def _save_further_definitions(
    agreement: Agreement, stored: list[FurtherDefinition], definitions: list[DefinitionInput]
) -> None:
    """Delete the removed definitions, update and add the others, numbered as shown."""
    by_pk = {d.pk: d for d in stored}
    kept = {d.pk for d in definitions if d.pk in by_pk}
    for definition in stored:
        if definition.pk not in kept:
            definition.delete()
    for position, entry in enumerate(definitions, start=1):
        definition = by_pk.get(entry.pk) or FurtherDefinition(agreement=agreement)
        definition.term, definition.text, definition.position = entry.term, entry.text, position
        definition.full_clean(exclude=["agreement"])
        definition.save()
