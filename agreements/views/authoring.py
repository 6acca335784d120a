"""The wizard: a new SLA, one step at a time, its live preview, and the review."""

import copy
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import wizard
from ..audit import RequestMeta
from ..diff import display_value
from ..document import SlaDocument, swiss_date
from ..enums import AgreementStatus
from ..fingerprints import FURTHER_DEFINITIONS
from ..forms import FurtherDefinitionFormSet, NewAgreementForm, SubmitForm
from ..models import Agreement, FurtherDefinition
from ..negotiation.panel import comment_panel
from ..negotiation.reading import page_changes
from ..people import display_name
from ..permissions import (
    Action,
    author_organisations,
    can_edit,
    can_submit,
    get_agreement_for,
    is_author,
)
from .agreement import renewal_context


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_create(request):
    """The first wizard step of a new SLA; the draft exists once it is saved."""
    organisations = author_organisations(request.user)
    if not organisations:
        raise PermissionDenied
    form = NewAgreementForm(
        data=request.POST if request.method == "POST" else None,
        organisations=organisations,
        instance=Agreement(organisation=organisations[0]),
    )
    if form.is_valid():
        try:
            agreement = wizard.agreement_create(
                organisation=form.cleaned_data.get("organisation", organisations[0]),
                values=form.step_values(),
                user=request.user,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Das SLA ist angelegt und als Entwurf gespeichert."))
            return redirect("agreement_step", pk=agreement.pk, step=wizard.STEPS[1].slug)
    return _render_step(request, None, wizard.STEPS[0], form)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_step(request, pk: int, step: str):
    """Show one wizard step; on POST save it and go where the author asked."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    step = _step_or_404(step)
    if not can_edit(request.user, agreement):
        return _frozen(request, agreement)
    if step.form_class is None:
        return agreement_review(request, agreement)
    data = request.POST if request.method == "POST" else None
    form, formset = _step_forms(step, agreement, data, request.FILES if data else None)
    if data is None or not (form.is_valid() and (formset is None or formset.is_valid())):
        return _render_step(request, agreement, step, form, formset)
    try:
        wizard.agreement_save_step(
            agreement=agreement,
            step=step,
            values=form.step_values(),
            loaded=form.loaded_fingerprints(),
            user=request.user,
            meta=RequestMeta.from_request(request),
            definitions=_definitions(formset),
            resolutions=_resolutions(request.POST),
            upload=form.cleaned_data.get("framework_document"),
            remove_upload=bool(form.cleaned_data.get("framework_document_remove")),
        )
    except wizard.NotEditable as refused:
        return _frozen(request, refused.current)
    except wizard.EditConflict as conflict:
        return _render_conflict(request, step, form, formset, conflict)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _render_step(request, agreement, step, form, formset)
    messages.success(request, _("Gespeichert."))
    return redirect(_destination(request, agreement, step))


@login_required
@require_POST
def agreement_step_preview(request, pk: int, step: str):
    """The document with the step's values as typed, for the preview beside the form.

    Saves nothing: the values are checked by the step's form and put on the loaded
    agreement in memory; a value the form refuses shows as stored.
    """
    agreement = get_agreement_for(request.user, pk, Action.EDIT)
    step = _step_or_404(step)
    if step.form_class is None:
        raise Http404
    form, formset = _step_forms(step, agreement, request.POST, None)
    form.is_valid()  # the valid values land on form.instance, which is ``agreement``
    further_definitions = None
    if formset is not None and formset.is_valid():
        further_definitions = [
            FurtherDefinition(agreement=agreement, term=entry.term, text=entry.text)
            for entry in _definitions(formset)
        ]
    doc = SlaDocument(agreement, further_definitions=further_definitions)
    response = render(request, "agreements/_preview.html", {"doc": doc})
    patch_cache_control(response, private=True, no_store=True)
    return response


def agreement_review(request, agreement):
    doc = SlaDocument(agreement)
    context = {
        "agreement": agreement,
        "doc": doc,
        "step": wizard.REVIEW,
        "states": wizard.step_states(doc),
        "step_number": len(wizard.STEPS),
        "step_total": len(wizard.STEPS),
        "missing": [(slot, wizard.step_of(slot)) for slot in doc.missing],
        "can_submit": can_submit(request.user, agreement),
        "submit_form": SubmitForm(initial={"revision": agreement.revision}),
        **renewal_context(agreement),
        **comment_panel(request, agreement, wizard.REVIEW.slug),
        "changed_since": page_changes(request.user, agreement),
    }
    return render(request, "agreements/review.html", context)


def _step_or_404(slug: str) -> wizard.Step:
    try:
        return wizard.get_step(slug)
    except wizard.UnknownStep:
        raise Http404 from None


def _frozen(request, agreement):
    """A step of an agreement no longer in draft: its page, saying why and how to change it.

    Management never edits (403). An author who comes back to a step after submitting
    (the browser's Back, a bookmark) lands on the agreement with what to do instead.
    """
    if not is_author(request.user, agreement):
        raise PermissionDenied
    if agreement.status == AgreementStatus.AWAITING_SIGNATURES:
        text = _(
            "Das SLA wurde am %(date)s zur Unterzeichnung eingereicht. Änderungen sind erst "
            "möglich, wenn es zurückgezogen wird (Schaltfläche «Zurückziehen»)."
        ) % {"date": swiss_date(agreement.submitted_at.date())}
    else:
        text = _(
            "Das SLA ist unterzeichnet und kann nicht mehr geändert werden. Für eine neue "
            "Periode wird es erneuert."
        )
    if request.method == "POST":
        text += " " + _("Ihre Eingaben auf der Seite wurden deshalb nicht gespeichert.")
    messages.warning(request, text)
    return redirect("agreement_detail", pk=agreement.pk)


def _step_forms(step, agreement, data, files):
    form = step.form_class(data=data, files=files, instance=agreement)
    formset = None
    if step.slug == "definitionen":
        formset = FurtherDefinitionFormSet(data=data, instance=agreement, prefix="definitions")
    return form, formset


def _definitions(formset) -> list[wizard.DefinitionInput] | None:
    """The further definitions as the author left them, in order; None on other steps."""
    if formset is None:
        return None
    return [
        wizard.DefinitionInput(
            pk=subform.instance.pk,
            term=subform.cleaned_data["term"],
            text=subform.cleaned_data["text"],
        )
        for subform in formset.forms
        # Removed, or an extra form left empty.
        if subform not in formset.deleted_forms and subform.cleaned_data
    ]


def _resolutions(data) -> dict[str, wizard.Resolution]:
    """The author's choices on the conflict page: ``resolve-<field>`` is mine or theirs."""
    return {
        key.removeprefix("resolve-"): wizard.Resolution(
            keep_mine=value == "mine", seen=data.get("seen-" + key.removeprefix("resolve-"), "")
        )
        for key, value in data.items()
        if key.startswith("resolve-") and value in ("mine", "theirs")
    }


def _destination(request, agreement, step) -> str:
    """Weiter, Zurück, Speichern, or a click on another step in the list."""
    previous, following = wizard.neighbours(step)
    # Zurück on the first step and Weiter on the last stay where they are.
    target = {"next": following, "previous": previous}.get(request.POST.get("go")) or step
    if request.POST.get("goto") in wizard.STEP_BY_SLUG:
        target = wizard.STEP_BY_SLUG[request.POST["goto"]]
    url = reverse("agreement_step", args=[agreement.pk, target.slug])
    if "add_definition" in request.POST:
        url = reverse("agreement_step", args=[agreement.pk, step.slug]) + "?neu=1#definitions"
    return url


def _render_step(request, agreement, step, form, formset=None, conflict=None, status=200):
    if formset is not None and request.GET.get("neu") and not formset.is_bound:
        formset = FurtherDefinitionFormSet(instance=agreement, prefix="definitions")
        formset.extra = 1
    doc = SlaDocument(agreement) if agreement else None
    previous, following = wizard.neighbours(step)
    context = {
        "agreement": agreement,
        "doc": doc,
        "step": step,
        "steps": wizard.STEPS,
        "states": wizard.step_states(doc) if doc else [],
        "step_number": wizard.STEPS.index(step) + 1,
        "step_total": len(wizard.STEPS),
        "previous": previous,
        "following": following,
        "form": form,
        "formset": formset,
        "conflict": conflict,
        "invalid": form.is_bound
        and (bool(form.errors) or (formset is not None and not formset.is_valid())),
    }
    if agreement is not None:
        context.update(comment_panel(request, agreement, step.slug))
        context["history_fields"] = _history_fields(step, form)
    if step.slug == "funnel":
        context["funnel_rows"] = [(form[row.stage.field_name], row) for row in doc.funnel]
    if form.is_bound and context["invalid"]:
        status = 422
    return render(request, "agreements/wizard.html", context, status=status)


def _history_fields(step, form) -> list[tuple[str, str]]:
    """The step's fields, each linked to its history ("Verlauf"), one click from the form."""
    fields = [(name, form.fields[name].label) for name in form._meta.fields if name in form.fields]
    if step.slug == "definitionen":
        fields.append((FURTHER_DEFINITIONS, _("Weitere Definitionen")))
    return fields


@dataclass(frozen=True)
class ConflictRow:
    """One field both authors changed: the value stored now and the author's, side by side."""

    name: str
    label: str
    theirs: str
    yours: str
    seen: str  # the stored value's fingerprint, posted back with the author's choice


def _render_conflict(request, step, form, formset, conflict):
    """The author's input stays in the form; above it, per field, both values to choose from."""
    current = conflict.current
    rows = []
    for name, seen in conflict.conflicts.items():
        if name == FURTHER_DEFINITIONS:
            theirs = _definitions_text(current.further_definitions.all())
            yours = _definitions_text(_definitions(formset))
            rows.append(ConflictRow(name, _("Weitere Definitionen"), theirs, yours, seen))
            continue
        field = Agreement._meta.get_field(name)
        typed = copy.copy(current)
        setattr(typed, name, form.cleaned_data[name])
        rows.append(
            ConflictRow(
                name,
                str(form.fields[name].label),
                display_value(current, field),
                display_value(typed, field),
                seen,
            )
        )
    context = {
        "who": display_name(current.updated_by) or _("jemand"),
        "when": current.updated_at,
        "rows": rows,
    }
    return _render_step(request, current, step, form, formset, conflict=context, status=409)


def _definitions_text(definitions) -> str:
    return "; ".join(f"{d.term}: {d.text}" for d in definitions) or "–"
