"""Sign-off: thin views over ``agreements.workflow``, which checks and records every step."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import wizard, workflow
from ..audit import RequestMeta
from ..document import SlaDocument
from ..enums import AgreementStatus, SigningMethod
from ..forms import DeclineForm, ReopenForm, SignForm, SubmitForm
from ..identity.rules import signing_methods
from ..identity.signing import passkey_request_options
from ..models import Agreement
from ..negotiation.reading import page_changes, shown_frozen_text
from ..permissions import Action, can_edit, can_sign, get_agreement_for
from .agreement import load_signatures


@login_required
@require_POST
def agreement_submit(request, pk: int):
    """Submit the reviewed draft for signature (the review step's button)."""
    agreement = get_agreement_for(request.user, pk, Action.SUBMIT)
    form = SubmitForm(request.POST)
    try:
        workflow.agreement_submit(
            agreement=agreement,
            user=request.user,
            meta=RequestMeta.from_request(request),
            reviewed_revision=form.cleaned_data["revision"] if form.is_valid() else -1,
            open_threads_confirmed=request.POST.get("confirm_open_threads") == "1",
        )
    except workflow.WorkflowError as error:
        messages.error(request, error.message)
        if can_edit(request.user, agreement):
            return redirect("agreement_step", pk=pk, step=wizard.REVIEW.slug)
        return redirect("agreement_detail", pk=pk)
    messages.success(
        request,
        _(
            "Das SLA ist zur Unterzeichnung eingereicht und kann nicht mehr bearbeitet werden. "
            "Beide Vertretungen wurden per E-Mail gebeten zu unterzeichnen."
        ),
    )
    return redirect("agreement_detail", pk=pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_sign(request, pk: int):
    """The frozen document and the form with which its representative signs for a party."""
    agreement = get_agreement_for(request.user, pk, Action.SIGN)
    load_signatures(agreement)
    party = can_sign(request.user, agreement)
    if party is None:
        messages.info(request, _signing_closed(agreement, request.user))
        return redirect("agreement_detail", pk=pk)
    methods = signing_methods(request.user, agreement.organisation)
    if request.method != "POST":
        form = SignForm(
            user=request.user,
            request=request,
            methods=methods,
            initial={"content_sha256": agreement.content_sha256},
        )
        return _render_sign(request, agreement, party, form)

    stale_page = request.POST.get("content_sha256") != agreement.content_sha256
    if not stale_page and not shown_frozen_text(request.user, agreement):
        # The signer last saw another text than the frozen one and has not been shown
        # the change: nothing is signed; this page shows it (and so records it as shown).
        # A stale page (another hash) the workflow refuses below, with its own message.
        form = SignForm(
            user=request.user,
            request=request,
            methods=methods,
            initial={
                "content_sha256": agreement.content_sha256,
                "typed_name": request.POST.get("typed_name", ""),
            },
        )
        refusal = _(
            "Die Vereinbarung wurde seit Ihrer letzten Ansicht geändert. Bitte sehen Sie sich "
            "die Änderungen oben an und unterzeichnen Sie dann."
        )
        return _render_sign(request, agreement, party, form, refusal=refusal, status=409)
    form = SignForm(data=request.POST, user=request.user, request=request, methods=methods)
    if not form.is_valid():
        return _render_sign(request, agreement, party, form, status=422)
    try:
        signature = workflow.agreement_sign(
            agreement=agreement,
            party=party,
            user=request.user,
            typed_name=form.cleaned_data["typed_name"],
            content_sha256=form.cleaned_data["content_sha256"],
            meta=RequestMeta.from_request(request),
            method=form.cleaned_data["method"],
            consent=form.fields["consent"].label,
        )
    except workflow.WorkflowError as error:
        return _render_sign_refused(request, error.current or agreement, form, error)
    if signature.agreement.status == AgreementStatus.SIGNED:
        messages.success(
            request,
            _("Sie haben unterzeichnet. Die Vereinbarung ist damit vollständig unterzeichnet."),
        )
    else:
        messages.success(
            request,
            _("Sie haben für %(party)s unterzeichnet. Die zweite Unterschrift steht noch aus.")
            % {"party": party.label},
        )
    return redirect("agreement_detail", pk=pk)


@login_required
@require_POST
def agreement_decline(request, pk: int):
    """A representative declines with a reason: back to draft, the authors are told."""
    return _back_to_draft(
        request,
        pk,
        Action.DECLINE,
        DeclineForm,
        workflow.agreement_decline,
        _(
            "Sie haben die Vereinbarung abgelehnt. Sie ist wieder ein Entwurf; die Beteiligten "
            "wurden benachrichtigt."
        ),
    )


@login_required
@require_POST
def agreement_reopen(request, pk: int):
    """An author pulls the submitted agreement back to draft; signatures given are voided."""
    return _back_to_draft(
        request,
        pk,
        Action.REOPEN,
        ReopenForm,
        workflow.agreement_reopen,
        _(
            "Die Vereinbarung ist zurückgezogen und wieder ein Entwurf. Bereits gegebene "
            "Unterschriften sind ungültig; die Beteiligten wurden benachrichtigt."
        ),
    )


def _back_to_draft(request, pk: int, action, form_class, transition, success: str):
    """Decline and reopen alike: a reason from the form, the transition, a message."""
    agreement = get_agreement_for(request.user, pk, action)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect("agreement_detail", pk=pk)
    try:
        transition(
            agreement=agreement,
            user=request.user,
            reason=form.cleaned_data["reason"],
            meta=RequestMeta.from_request(request),
        )
    except workflow.WorkflowError as error:
        messages.error(request, error.message)
        return redirect("agreement_detail", pk=pk)
    messages.success(request, success)
    return redirect("agreement_detail", pk=pk)


@login_required
@require_POST
def agreement_renew(request, pk: int):
    """An author starts next period's SLA from a signed one and goes on in its wizard."""
    agreement = get_agreement_for(request.user, pk, Action.RENEW)
    try:
        successor = workflow.agreement_renew(
            agreement=agreement, user=request.user, meta=RequestMeta.from_request(request)
        )
    except workflow.WorkflowError as error:
        existing = Agreement.objects.filter(renews=agreement).first()
        if existing is None:
            messages.error(request, error.message)
        else:
            messages.error(
                request,
                format_html(
                    '{} <a href="{}" class="alert-link">{}</a>',
                    error.message,
                    reverse("agreement_detail", args=[existing.pk]),
                    _("Zur Erneuerung"),
                ),
            )
        return redirect("agreement_detail", pk=pk)
    messages.success(
        request,
        _(
            "Die Erneuerung ist als Entwurf angelegt: alle Angaben sind übernommen, der "
            "Zeitraum ist um eine Periode verschoben. Prüfen und ändern Sie, was für die "
            "neue Periode gilt."
        ),
    )
    return redirect("agreement_step", pk=successor.pk, step=wizard.STEPS[0].slug)


def _render_sign(request, agreement, party, form, *, refusal="", status=200):
    valid = [s for s in agreement.signatures.all() if s.is_valid]
    context = {
        "agreement": agreement,
        "doc": SlaDocument(agreement, signatures=valid),
        # Shown above the document; showing it records the frozen text as seen.
        "changed_since": page_changes(request.user, agreement),
        "party": party,
        "form": form,
        "refusal": refusal,
        "decline_form": DeclineForm(auto_id="decline_%s"),
        # A fresh challenge on every showing: the browser's passkey answers only this one.
        "passkey_options": (
            {"request_options": passkey_request_options(request.user)}
            if SigningMethod.WEBAUTHN in form.methods
            else None
        ),
    }
    return render(request, "agreements/sign.html", context, status=status)


def _render_sign_refused(request, agreement, form, error):
    """The workflow refused: show why, with the agreement as it found it under its lock.

    When the frozen content changed meanwhile, the page shows the new version with its
    hash, and the consent is asked again: it was given for the text read before.
    """
    load_signatures(agreement)
    party = can_sign(request.user, agreement)
    if party is None:
        messages.error(request, error.message)
        return redirect("agreement_detail", pk=agreement.pk)
    if form.cleaned_data["content_sha256"] != agreement.content_sha256:
        form = SignForm(
            user=request.user,
            request=request,
            methods=form.methods,
            initial={
                "content_sha256": agreement.content_sha256,
                "typed_name": form.cleaned_data["typed_name"],
            },
        )
        return _render_sign(request, agreement, party, form, refusal=error.message, status=409)
    form.add_error(None, error.message)
    return _render_sign(request, agreement, party, form, status=422)


def _signing_closed(agreement, user) -> str:
    """Why a representative cannot sign now: not under signature, or signed already."""
    if agreement.status != AgreementStatus.AWAITING_SIGNATURES:
        return _("Diese Vereinbarung liegt zurzeit nicht zur Unterzeichnung vor.")
    return _("Sie haben für diese Vereinbarung bereits unterzeichnet.")
