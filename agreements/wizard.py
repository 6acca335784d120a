"""The authoring wizard: its steps, and saving a step without losing anyone's work.

The database is the draft's only storage: every "Weiter" or "Speichern" writes the
step's fields at once. Marketing and Sales edit the same draft, so each save names the
revision it started from; a save based on an older revision is refused and the author's
input stays on screen (``StaleRevision``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from . import forms
from .audit import RequestMeta, audit_record
from .document import SlaDocument
from .enums import AgreementStatus, AuditAction
from .models import Agreement
from .uploads import framework_document_remove, framework_document_replace


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    sections: str  # which sections of the SLA the step fills
    form_class: type[forms.StepForm] | None
    intro: str = ""


STEPS = (
    Step(
        "grunddaten",
        _("Grunddaten & Geltungsbereich"),
        _("Abschnitte 1 und 2"),
        forms.BasicsForm,
        _("Für welchen Zeitraum und welchen Bereich der Firma gilt das SLA?"),
    ),
    Step(
        "parteien",
        _("Parteien"),
        _("Abschnitt 3 und Unterschriften"),
        forms.PartiesForm,
        _("Wer vertritt Marketing und Sales und unterzeichnet das SLA?"),
    ),
    Step(
        "rahmen",
        _("Rahmen"),
        _("Abschnitt 4"),
        forms.FrameworkForm,
        _("Das Inbound Marketing & Sales System, auf dem das SLA aufbaut."),
    ),
    Step(
        "definitionen",
        _("Definitionen"),
        _("Abschnitt 5"),
        forms.DefinitionsForm,
        _("Die Begriffe, die Marketing und Sales gemeinsam definieren."),
    ),
    Step(
        "ziele",
        _("Zielsetzungen & Metriken"),
        _("Abschnitte 6 und 7"),
        forms.GoalsForm,
        _("Was Marketing an Sales übergibt, wie schnell Sales reagiert und was gemessen wird."),
    ),
    Step(
        "verantwortung",
        _("Verantwortung"),
        _("Abschnitt 8"),
        forms.ResponsibilitiesForm,
        _("Wer auf beiden Seiten für die Zielerreichung verantwortlich ist."),
    ),
    Step(
        "reporting",
        _("Reporting & Erneuerung"),
        _("Abschnitte 9, 10 und 11"),
        forms.ReportingForm,
        _("Wie berichtet wird, wie oft sich die Teams austauschen und wann das SLA erneuert wird."),
    ),
    Step(
        "funnel",
        _("Funnel (Anhang)"),
        _("Anhang"),
        forms.FunnelForm,
        _("Die Zahlen des Inbound Funnels; die Conversion Rates ergeben sich daraus."),
    ),
    Step("pruefen", _("Prüfen"), _("ganzes Dokument"), None),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
REVIEW = STEP_BY_SLUG["pruefen"]


def get_step(slug: str) -> Step:
    try:
        return STEP_BY_SLUG[slug]
    except KeyError:
        raise Http404 from None


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
        missing_by_step[slot.step] = missing_by_step.get(slot.step, 0) + 1
    return [StepState(step, missing_by_step.get(step.slug, 0)) for step in STEPS if step.form_class]


def first_open_step(doc: SlaDocument) -> Step:
    """Where an author resumes: the first step with something missing, else the review."""
    for state in step_states(doc):
        if not state.complete:
            return state.step
    return REVIEW


class StaleRevision(Exception):
    """The draft changed since the author loaded the step."""

    def __init__(self, current: Agreement):
        super().__init__(f"agreement {current.pk} is at revision {current.revision}")
        self.current = current


class NotEditable(Exception):
    """The agreement left the draft state while the author was typing."""


@transaction.atomic
def agreement_create(
    *, form: forms.NewAgreementForm, organisation, user, meta: RequestMeta
) -> Agreement:
    """A new draft from the first step's valid form, with the creator as representative."""
    agreement = form.save(commit=False)
    agreement.organisation = organisation
    agreement.created_by = agreement.updated_by = user
    role = user.memberships.get(organisation=organisation).role
    setattr(agreement, f"{role}_representative", user)
    if role == "marketing":
        agreement.marketing_responsible = user.get_full_name()
    elif role == "sales":
        agreement.sales_responsible = user.get_full_name()
    agreement.full_clean()
    agreement.save()
    audit_record(
        agreement=agreement,
        action=AuditAction.CREATED,
        actor=user,
        meta=meta,
        details={"step": STEPS[0].slug, "fields": _filled(form)},
    )
    return agreement


def agreement_save_step(
    *, form: forms.StepForm, formset=None, user, meta: RequestMeta, step: Step
) -> Agreement:
    """Store one step of a draft, unless someone saved a newer revision meanwhile.

    Only the step's own fields are written (``update_fields``), under a row lock, so a
    save can never overwrite what another author stored in another step.
    """
    with transaction.atomic():
        current = Agreement.objects.select_for_update().get(pk=form.instance.pk)
        if current.status != AgreementStatus.DRAFT:
            raise NotEditable
        if current.revision != form.cleaned_data["base_revision"]:
            raise StaleRevision(Agreement.objects.select_related("updated_by").get(pk=current.pk))
        agreement = form.save(commit=False)
        agreement.revision = current.revision + 1
        agreement.updated_by = user
        agreement.save(update_fields=[*form._meta.fields, "revision", "updated_by", "updated_at"])
        if formset is not None:
            _save_further_definitions(formset, agreement)
        if upload := form.cleaned_data.get("framework_document"):
            framework_document_replace(agreement=agreement, uploaded_file=upload)
        elif form.cleaned_data.get("framework_document_remove"):
            framework_document_remove(agreement=agreement)
        # The event names what changed, never the text itself: the content is hashed
        # at submission, the trail says who worked on which part when.
        changed = form.changed_data + (
            ["further_definitions"] if formset and formset.has_changed() else []
        )
        audit_record(
            agreement=agreement,
            action=AuditAction.STEP_SAVED,
            actor=user,
            meta=meta,
            details={"step": step.slug, "revision": agreement.revision, "fields": changed},
        )
    return agreement


def _filled(form) -> list[str]:
    return [name for name in form._meta.fields if form.cleaned_data.get(name) not in (None, "")]


def _save_further_definitions(formset, agreement: Agreement) -> None:
    """Delete the removed definitions and number the rest in the order shown."""
    formset.instance = agreement
    formset.save(commit=False)
    for definition in formset.deleted_objects:
        definition.delete()
    position = 0
    for subform in formset.forms:
        if subform in formset.deleted_forms or not subform.cleaned_data:
            continue  # removed, or an extra form left empty
        position += 1
        definition = subform.instance
        definition.agreement = agreement
        definition.position = position
        definition.save()
