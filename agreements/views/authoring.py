"""The wizard: a new SLA, one step at a time, and the review before submitting."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from .. import wizard
from ..audit import RequestMeta
from ..document import SlaDocument, swiss_date
from ..forms import FurtherDefinitionFormSet, NewAgreementForm, SubmitForm
from ..models import Agreement
from ..permissions import Action, author_organisations, can_submit, get_agreement_for
from .agreement import renewal_context


@login_required
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
        agreement = wizard.agreement_create(
            form=form,
            organisation=form.cleaned_data.get("organisation", organisations[0]),
            user=request.user,
            meta=RequestMeta.from_request(request),
        )
        messages.success(request, _("Das SLA ist angelegt und als Entwurf gespeichert."))
        return redirect("agreement_step", pk=agreement.pk, step=wizard.STEPS[1].slug)
    return _render_step(request, None, wizard.STEPS[0], form)


@login_required
def agreement_step(request, pk: int, step: str):
    """Show one wizard step; on POST save it and go where the author asked."""
    agreement = get_agreement_for(request.user, pk, Action.EDIT)
    step = wizard.get_step(step)
    if step.form_class is None:
        return agreement_review(request, agreement)
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = step.form_class(data=data, files=files, instance=agreement)
    formset = None
    if step.slug == "definitionen":
        formset = FurtherDefinitionFormSet(data=data, instance=agreement, prefix="definitions")
    if data is None or not (form.is_valid() and (formset is None or formset.is_valid())):
        return _render_step(request, agreement, step, form, formset)
    try:
        wizard.agreement_save_step(
            form=form,
            formset=formset,
            user=request.user,
            meta=RequestMeta.from_request(request),
            step=step,
        )
    except wizard.NotEditable:
        messages.error(request, _("Das SLA ist kein Entwurf mehr und kann nicht geändert werden."))
        return redirect("agreement_detail", pk=agreement.pk)
    except wizard.StaleRevision as stale:
        return _render_conflict(request, stale.current, step, form, formset)
    messages.success(request, _("Gespeichert."))
    return redirect(_destination(request, agreement, step))


def agreement_review(request, agreement):
    doc = SlaDocument(agreement)
    context = {
        "agreement": agreement,
        "doc": doc,
        "step": wizard.REVIEW,
        "states": wizard.step_states(doc),
        "step_number": len(wizard.STEPS),
        "step_total": len(wizard.STEPS),
        "missing": [(slot, wizard.STEP_BY_SLUG[slot.step]) for slot in doc.missing],
        "can_submit": can_submit(request.user, agreement),
        "submit_form": SubmitForm(initial={"revision": agreement.revision}),
        **renewal_context(agreement),
    }
    return render(request, "agreements/review.html", context)


def _destination(request, agreement, step) -> str:
    """Weiter, Zurück, Speichern, or a click on another step in the list."""
    previous, following = wizard.neighbours(step)
    target = {"next": following, "previous": previous}.get(request.POST.get("go"), step)
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
    if step.slug == "funnel":
        context["funnel_rows"] = [(form[row.stage.field_name], row) for row in doc.funnel]
    if form.is_bound and context["invalid"]:
        status = 422
    return render(request, "agreements/wizard.html", context, status=status)


def _render_conflict(request, current, step, form, formset):
    """The author's input back on screen, with who changed what meanwhile.

    The new form is based on the current revision: saving it again is a conscious
    decision to replace the other author's values in this step.
    """
    data = request.POST.copy()
    data["base_revision"] = current.revision
    changed = [
        (form.fields[name].label, _display(current, name))
        for name in form._meta.fields
        if form.cleaned_data.get(name) != getattr(current, name)
        and not (form.cleaned_data.get(name) in (None, "") and getattr(current, name) in (None, ""))
    ]
    conflict = {
        "who": current.updated_by.get_full_name() if current.updated_by else _("jemand"),
        "when": current.updated_at,
        "changed": changed,
    }
    form = step.form_class(data=data, files=request.FILES, instance=current)
    if formset is not None:
        formset = FurtherDefinitionFormSet(data=data, instance=current, prefix="definitions")
    return _render_step(request, current, step, form, formset, conflict=conflict, status=409)


def _display(agreement, name: str) -> str:
    value = getattr(agreement, name)
    field = agreement._meta.get_field(name)
    if value in (None, ""):
        return "–"
    if field.choices:
        return str(getattr(agreement, f"get_{name}_display")())
    if hasattr(value, "strftime"):
        return swiss_date(value)
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.get_username()
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    return str(value)
