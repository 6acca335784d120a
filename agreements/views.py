"""Pages of the portal. Thin: fetch through ``permissions``, render, redirect."""

import datetime
import hashlib
import logging
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from . import actuals, actuals_csv, archive, goals_chart, uploads, wizard, workflow
from .audit import RequestMeta, audit_events, audit_record, audit_verify
from .diff import agreement_diff
from .document import SlaDocument, swiss_date
from .enums import AUTHOR_ROLES, AgreementStatus, AuditAction, Party
from .forms import (
    ActualsImportForm,
    DeclineForm,
    FurtherDefinitionFormSet,
    NewAgreementForm,
    PdfVerifyForm,
    PeriodActualsForm,
    ReopenForm,
    SignForm,
    SubmitForm,
)
from .models import (
    Agreement,
    AuditEvent,
    PeriodActuals,
    Signature,
    user_organisations_changed,
    user_roles,
)
from .pdf import PdfRenderError, render_agreement_pdf, render_goals_pdf
from .permissions import (
    Action,
    author_organisations,
    can_decline,
    can_edit,
    can_enter_actuals,
    can_renew,
    can_reopen,
    can_sign,
    can_submit,
    can_view,
    get_agreement_for,
    role_in,
)

logger = logging.getLogger(__name__)

DASHBOARD_PAGE_SIZE = 20
_PERSON = ("first_name", "last_name", "username")
# The columns the dashboard's list shows: the rows load these, not the whole SLA.
DASHBOARD_COLUMNS = (
    "status",
    "start_date",
    "end_date",
    "geographic_unit",
    "group_subgroup",
    "updated_at",
    "organisation__name",
    *(
        f"{person}__{name}"
        for person in ("marketing_representative", "sales_representative", "updated_by")
        for name in _PERSON
    ),
)
# How long a rendered list is kept. Its key changes whenever what it shows can have
# changed, so this bounds the memory that lists of old contents hold, and how long a
# list could outlive a change that no timestamp tells (a server clock set back).
DASHBOARD_LIST_SECONDS = 10 * 60
SIGNED_LIST_PAGE_SIZE = 20


class DashboardList(NamedTuple):
    """One page of the dashboard's list as kept in the cache: its figures and its HTML."""

    count: int  # agreements found, on all pages
    number: int  # this page's number (an out-of-range or bad one becomes a real one)
    pages: int
    html: str  # the table and the page links; "" when nothing was found


@login_required
@require_safe
def dashboard(request):
    """The agreements of the user's organisations, filtered by status and search, paged.

    The list is rendered once and kept in the cache for as long as nothing it shows
    changes (``_dashboard_list_key``): a request that finds it reads no agreement at all,
    only the user's memberships, which every page reads anyway.
    """
    status = request.GET.get("status", "")
    if status not in AgreementStatus.values:
        status = ""
    # PostgreSQL refuses a NUL character in a query parameter (a 500); it is never part
    # of a name anyone searches for.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    filters = {name: value for name, value in (("status", status), ("q", query)) if value}
    page_number = request.GET.get("page", "")[:20]
    key = _dashboard_list_key(request.user, filters, page_number)
    listing = cache.get(key)
    if listing is None:
        listing = _dashboard_list(request.user, filters, page_number)
        cache.set(key, listing, DASHBOARD_LIST_SECONDS)
    context = {
        "listing": listing,
        "status": status,
        "query": query,
        "filtered": bool(filters),
        "statuses": AgreementStatus.choices,
        "can_create": any(role in AUTHOR_ROLES for role in user_roles(request.user).values()),
    }
    return render(request, "agreements/dashboard.html", context)


def _dashboard_list(user, filters: dict, page_number: str) -> DashboardList:
    agreements = Agreement.objects.visible_to(user)
    if "status" in filters:
        agreements = agreements.filter(status=filters["status"])
    if "q" in filters:
        agreements = agreements.search(filters["q"])
    paginator = Paginator(
        agreements.select_related(
            "organisation", "marketing_representative", "sales_representative", "updated_by"
        )
        .only(*DASHBOARD_COLUMNS)
        .order_by("-updated_at", "-pk"),
        DASHBOARD_PAGE_SIZE,
    )
    page = paginator.get_page(page_number)
    html = ""
    if paginator.count:
        html = render_to_string(
            "agreements/_dashboard_list.html",
            {
                "page": page,
                "page_range": paginator.get_elided_page_range(
                    page.number, on_each_side=2, on_ends=1
                ),
                # Page links carry the filters and nothing else of the request: the list
                # is shared by every member of the same organisations.
                "page_query": urlencode(filters),
            },
        )
    return DashboardList(paginator.count, page.number, paginator.num_pages, html)


def _dashboard_list_key(user, filters: dict, page_number: str) -> str:
    """The cache key of one page of the dashboard's list: everything it depends on.

    For each of the user's organisations its ``updated_at`` (moved by a new name of the
    organisation or of one of its people, and by a deleted agreement: ``signals.py``)
    and the last ``updated_at`` of its agreements (every write of an agreement moves it,
    and a new one comes last); then the filters and page, language and time zone. Members
    of the same organisations share it: the list shows nothing of the user who asks.
    """
    parts = (
        sorted(user_organisations_changed(user).items()),
        sorted(filters.items()),
        page_number,
        get_language(),
        timezone.get_current_timezone_name(),
    )
    return "dashboard-list:" + hashlib.sha256(repr(parts).encode()).hexdigest()


@login_required
@require_safe
def agreement_detail(request, pk: int):
    """The agreement, its sign-off status, the buttons the user may press, and the trail."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    signatures = _load_signatures(agreement)
    valid = [s for s in signatures if s.is_valid]
    doc = SlaDocument(agreement, signatures=valid)
    events = audit_events(agreement)
    context = {
        "agreement": agreement,
        "doc": doc,
        "can_edit": can_edit(request.user, agreement),
        "resume_step": wizard.first_open_step(doc),
        "parties": _party_rows(agreement, valid),
        "voided": [s for s in signatures if not s.is_valid],
        "sign_party": can_sign(request.user, agreement),
        "can_decline": can_decline(request.user, agreement),
        "can_reopen": can_reopen(request.user, agreement),
        "can_renew": can_renew(request.user, agreement),
        **_renewal_context(agreement),
        "decline_form": DeclineForm(auto_id="decline_%s"),
        "reopen_form": ReopenForm(auto_id="reopen_%s"),
        "trail": _trail_rows(events),
        "chain": audit_verify(agreement, events),
    }
    return render(request, "agreements/detail.html", context)


# Downloads of the signed PDF listed one by one on the agreement page: the latest ones.
TRAIL_DOWNLOADS_SHOWN = 10


@dataclass(frozen=True)
class HiddenDownloads:
    """Older downloads, one line on the page instead of one row each."""

    count: int
    first: AuditEvent
    last: AuditEvent


def _trail_rows(events: list[AuditEvent]) -> list:
    """The trail as the agreement page lists it: (event, summary) pairs, oldest first.

    Every event is listed except the older downloads of the signed PDF: each download
    is an event, and management may download an agreement thousands of times over the
    years. They are kept, hashed and verified like all others; the page lists the last
    ``TRAIL_DOWNLOADS_SHOWN`` and puts a ``HiddenDownloads`` line in place of the rest.
    """
    downloads = [e.sequence for e in events if e.action == AuditAction.PDF_DOWNLOADED]
    hidden = set(downloads[:-TRAIL_DOWNLOADS_SHOWN])
    rows, run = [], []
    for event in events:
        if event.sequence in hidden:
            run.append(event)
            continue
        if run:
            rows.append((HiddenDownloads(len(run), run[0], run[-1]), ""))
            run = []
        rows.append((event, _audit_summary(event)))
    if run:
        rows.append((HiddenDownloads(len(run), run[0], run[-1]), ""))
    return rows


@login_required
@require_safe
def agreement_framework_document(request, pk: int):
    """Stream the framework document to a member of the agreement's organisation.

    The only way to the file: the media root has no URL. Always a download, never shown
    inline, so a file a browser might sniff as HTML cannot run in our origin.
    """
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    if not agreement.framework_document:
        raise Http404
    try:
        handle = agreement.framework_document.storage.open(agreement.framework_document.name)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=agreement.framework_document_name or uploads.DEFAULT_DOWNLOAD_NAME,
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


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
        **_renewal_context(agreement),
    }
    return render(request, "agreements/review.html", context)


def _renewal_context(agreement) -> dict:
    """The agreement's predecessor and successor, and what changed against the predecessor."""
    predecessor = agreement.renews
    return {
        "predecessor": predecessor,
        "successor": Agreement.objects.filter(renews=agreement).first(),
        "changes": agreement_diff(predecessor, agreement) if predecessor else [],
    }


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


# Sign-off: thin views over agreements.workflow, which checks and records every step.


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
    _load_signatures(agreement)
    party = can_sign(request.user, agreement)
    if party is None:
        messages.info(request, _signing_closed(agreement, request.user))
        return redirect("agreement_detail", pk=pk)
    if request.method != "POST":
        form = SignForm(user=request.user, initial={"content_sha256": agreement.content_sha256})
        return _render_sign(request, agreement, party, form)

    form = SignForm(data=request.POST, user=request.user)
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
        )
    except workflow.WorkflowError as error:
        return _render_sign_refused(request, pk, form, error)
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
        "party": party,
        "form": form,
        "refusal": refusal,
        "decline_form": DeclineForm(auto_id="decline_%s"),
    }
    return render(request, "agreements/sign.html", context, status=status)


def _render_sign_refused(request, pk: int, form, error):
    """The workflow refused: show why, with the agreement as it is now.

    When the frozen content changed meanwhile, the page shows the new version with its
    hash, and the consent is asked again: it was given for the text read before.
    """
    agreement = get_agreement_for(request.user, pk, Action.SIGN)
    _load_signatures(agreement)
    party = can_sign(request.user, agreement)
    if party is None:
        messages.error(request, error.message)
        return redirect("agreement_detail", pk=pk)
    if form.cleaned_data["content_sha256"] != agreement.content_sha256:
        form = SignForm(
            user=request.user,
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


def _load_signatures(agreement) -> list[Signature]:
    """All signatures of the agreement, voided ones too, in one query, kept on it.

    Prefetched onto the agreement, so ``can_sign`` reads them without asking again.
    """
    prefetch_related_objects(
        [agreement],
        Prefetch("signatures", queryset=Signature.objects.with_job_title().order_by("signed_at")),
    )
    return list(agreement.signatures.all())


def _party_rows(agreement, valid_signatures) -> list[dict]:
    """Per party: who represents it and their valid signature, if given."""
    by_party = {s.party: s for s in valid_signatures}
    return [
        {
            "party": party,
            "representative": agreement.representative(party),
            "signature": by_party.get(party.value),
        }
        for party in Party
    ]


def _audit_summary(event) -> str:
    """A line about what an audit event records, from its details; never the document text."""
    details = event.details or {}
    parts = []
    if step := details.get("step"):
        title = wizard.STEP_BY_SLUG[step].title if step in wizard.STEP_BY_SLUG else step
        parts.append(_("Schritt «%(step)s»") % {"step": title})
    if party := details.get("party"):
        label = Party(party).label if party in Party.values else party
        parts.append(_("für %(party)s") % {"party": label})
    if typed_name := details.get("typed_name"):
        parts.append(_("als «%(name)s»") % {"name": typed_name})
    if revision := details.get("revision"):
        parts.append(_("Revision %(revision)s") % {"revision": revision})
    if fields := details.get("fields"):
        if event.action == AuditAction.CREATED:
            text = ngettext("%(count)d Angabe erfasst", "%(count)d Angaben erfasst", len(fields))
        else:
            text = ngettext("%(count)d Angabe geändert", "%(count)d Angaben geändert", len(fields))
        parts.append(text % {"count": len(fields)})
    if renews_id := details.get("renews_id"):
        parts.append(_("Erneuerung von Nr. %(id)s") % {"id": renews_id})
    if successor_id := details.get("successor_id"):
        parts.append(_("Nachfolgerin Nr. %(id)s") % {"id": successor_id})
    if reason := details.get("reason"):
        parts.append(_("Grund: %(reason)s") % {"reason": reason})
    if voided := details.get("voided_signature_ids"):
        parts.append(
            ngettext(
                "%(count)d Unterschrift ungültig", "%(count)d Unterschriften ungültig", len(voided)
            )
            % {"count": len(voided)}
        )
    for key, value in details.items():
        if key.endswith("sha256") and isinstance(value, str) and value:
            parts.append(_("Prüfsumme %(hash)s…") % {"hash": value[:12]})
    return " · ".join(parts)


# --- The PDF: download, preview, the list of signed agreements, the verify page ---------


# What serving a stored signed PDF reads of the agreement: its state, the file, the name.
PDF_DOWNLOAD_COLUMNS = (
    "status",
    "start_date",
    "signed_pdf",
    "signed_pdf_sha256",
    "organisation__name",
)


@login_required
@require_GET
def agreement_pdf(request, pk: int):
    """The agreement as a PDF, for every member of its organisation.

    Signed (or superseded): the sealed PDF exactly as stored, streamed from storage after
    its SHA-256 check, and the download written to the audit trail. Should the
    completion hook have failed to store it, this first download stores it (one render).
    Before that, a preview with the "ENTWURF" watermark: rendered on each request, never
    sealed, never stored, never cached.
    """
    agreement = get_agreement_for(request.user, pk, Action.DOWNLOAD, only=PDF_DOWNLOAD_COLUMNS)
    if agreement.status not in archive.SIGNED_STATUSES:
        # The preview renders the whole SLA: load all of it.
        return _pdf_preview(request, get_agreement_for(request.user, pk, Action.DOWNLOAD))
    try:
        if not agreement.signed_pdf:
            archive.signed_pdf_store(agreement_id=agreement.pk)
            agreement.refresh_from_db(
                fields=["signed_pdf", "signed_pdf_sha256", "signed_pdf_stored_at"]
            )
        handle = archive.signed_pdf_open(agreement)
    except archive.SignedPdfMismatch:
        # Logged by signed_pdf_open. A changed file must not go out as the signed one.
        return _pdf_unavailable(request, agreement, mismatch=True)
    except archive.SignedPdfError:
        logger.exception("Signed PDF of agreement %s could not be stored", agreement.pk)
        return _pdf_unavailable(request, agreement, mismatch=False)
    with transaction.atomic():
        audit_record(
            agreement=agreement,
            action=AuditAction.PDF_DOWNLOADED,
            actor=request.user,
            meta=RequestMeta.from_request(request),
            details={"sha256": agreement.signed_pdf_sha256},
        )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=archive.signed_pdf_filename(agreement),
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


def _pdf_preview(request, agreement):
    try:
        pdf = render_agreement_pdf(agreement, draft=True)
    except PdfRenderError:
        logger.exception("Draft preview of agreement %s could not be rendered", agreement.pk)
        return _pdf_unavailable(request, agreement, mismatch=False)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=archive.signed_pdf_filename(agreement, draft=True)
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A draft changes with every save: a cached copy would show an old text.
    patch_cache_control(response, private=True, no_store=True)
    return response


def _pdf_unavailable(request, agreement, *, mismatch: bool):
    """409 when the stored file fails its check (it is kept, not replaced), else 503."""
    return render(
        request,
        "agreements/pdf_unavailable.html",
        {"agreement": agreement, "mismatch": mismatch},
        status=409 if mismatch else 503,
    )


@login_required
@require_safe
def signed_agreements(request):
    """Every signed agreement of the user's organisations, each with its PDF to download.

    For management above all, who read rather than write. Paged like the dashboard, so
    that years of agreements cost no more than one page; a constant number of queries:
    the valid signatures with their signers' job titles come in one prefetch per page.
    """
    agreements = (
        Agreement.objects.visible_to(request.user)
        .signed()
        .select_related("organisation")
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=Signature.objects.valid().with_job_title().order_by("signed_at"),
                to_attr="valid_signatures",
            )
        )
        .order_by("-start_date", "-completed_at", "-pk")
    )
    page = Paginator(agreements, SIGNED_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }
    return render(request, "agreements/signed_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pdf_verify(request):
    """Upload a PDF and learn whether it is a signed SLA exactly as the portal stored it.

    Open to every logged-in user, since a copy travels beyond the organisation (to an
    auditor, a new manager). What the answer shows is limited to what the file itself
    says: organisation, period, parties, signers and dates. Whoever holds an authentic
    file already has all of it, so even someone from another organisation learns nothing
    new; the link to the agreement's page appears only for members who may open it.
    """
    form = PdfVerifyForm(
        data=request.POST if request.method == "POST" else None,
        files=request.FILES if request.method == "POST" else None,
    )
    result = None
    if form.is_bound and form.is_valid():
        result = archive.signed_pdf_verify(form.cleaned_data["pdf"].chunks())
    context = {
        "form": form,
        "result": result,
        "can_open": bool(result and result.authentic and can_view(request.user, result.agreement)),
    }
    return render(request, "agreements/verify.html", context, status=422 if form.errors else 200)


# --- Goals: Ist-Werte, the management dashboard, its PDF and CSV (issue 8) ---------------

IMPORT_SALT = "agreements.actuals-import"
IMPORT_MAX_AGE = 60 * 60  # a preview left open over lunch must be uploaded again


@login_required
@require_safe
def goals_overview(request):
    """Every signed agreement of the user's organisations with its goals' status lights."""
    agreements = (
        Agreement.objects.visible_to(request.user)
        .signed()
        .select_related("organisation")
        .order_by("-start_date", "-pk")
    )
    page = Paginator(agreements, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "agreements/goals_overview.html",
        {"page": page, "reports": actuals.goal_reports(list(page.object_list))},
    )


@login_required
@require_safe
def agreement_goals(request, pk: int):
    """The management dashboard of one signed agreement: attainment per period, charts."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    report = actuals.goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))
    return render(
        request,
        "agreements/goals.html",
        {
            "agreement": agreement,
            "report": report,
            "sql_chart": goals_chart.sql_attainment_svg(report.rows),
            "funnel_chart": goals_chart.funnel_attainment_svg(report.funnel),
            "can_enter": can_enter_actuals(request.user, agreement),
            "thresholds": (actuals.LIGHT_GREEN_FROM, actuals.LIGHT_YELLOW_FROM),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_actuals(request, pk: int):
    """The periods of a signed agreement, each with a form for the user's own figures.

    Every member reads; marketing and sales save their figures (POST, one period at a time).
    """
    action = Action.ENTER_ACTUALS if request.method == "POST" else Action.VIEW_GOALS
    agreement = get_agreement_for(request.user, pk, action)
    role = role_in(request.user, agreement.organisation_id)
    editable = actuals.fields_for_role(role)
    stored = {a.period_start: a for a in PeriodActuals.objects.filter(agreement=agreement)}
    periods = actuals.agreement_periods(agreement)
    bound_start, bound_form = None, None
    if request.method == "POST":
        bound_start = _posted_period(request, periods)
        bound_form = PeriodActualsForm(
            request.POST,
            editable=editable,
            initial=model_to_dict(stored.get(bound_start), fields=actuals.ACTUALS_FIELDS)
            if stored.get(bound_start)
            else {},
            prefix=f"p{bound_start:%Y%m%d}",
        )
        if bound_form.is_valid():
            entry = actuals.ActualsEntry(
                period_start=bound_start, values=bound_form.changed_values()
            )
            try:
                actuals.actuals_save(
                    agreement=agreement, user=request.user, role=role, entries=[entry]
                )
            except ValidationError as error:
                bound_form.add_error(None, error)
            else:
                messages.success(request, _("Die Ist-Werte sind gespeichert."))
                return redirect(
                    f"{reverse('agreement_actuals', args=[agreement.pk])}#p{bound_start:%Y%m%d}"
                )
    rows = []
    for period in periods:
        entry = stored.get(period.start)
        if period.start == bound_start:
            form = bound_form
        elif editable:
            initial = model_to_dict(entry, fields=actuals.ACTUALS_FIELDS) if entry else {}
            form = PeriodActualsForm(
                editable=editable, initial=initial, prefix=f"p{period.start:%Y%m%d}"
            )
        else:
            form = None
        figures = [
            (
                PeriodActuals._meta.get_field(name).verbose_name,
                actuals.format_number(getattr(entry, name, None)),
            )
            for name in actuals.ACTUALS_FIELDS
        ]
        rows.append({"period": period, "actuals": entry, "form": form, "figures": figures})
    return render(
        request,
        "agreements/actuals.html",
        {
            "agreement": agreement,
            "rows": rows,
            "role": role,
            "editable": editable,
            "columns": actuals_csv.COLUMNS,
        },
        status=400 if bound_form is not None else 200,
    )


def _posted_period(request, periods):
    try:
        start = datetime.date.fromisoformat(request.POST.get("period", ""))
    except ValueError:
        raise Http404 from None
    if start not in {p.start for p in periods}:
        raise Http404
    return start


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_actuals_import(request, pk: int):
    """Upload a CSV report, see what it would save, then save it all or nothing.

    The preview carries the parsed lines in a signed field (``django.core.signing``): the
    confirmation saves exactly what was shown, and a changed field is refused.
    """
    agreement = get_agreement_for(request.user, pk, Action.ENTER_ACTUALS)
    role = role_in(request.user, agreement.organisation_id)
    context = {"agreement": agreement, "columns": actuals_csv.COLUMNS, "role": role}
    if request.method == "POST" and "payload" in request.POST:
        try:
            payload = signing.loads(
                request.POST["payload"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE
            )
        except signing.BadSignature:
            messages.error(
                request, _("Die Vorschau ist abgelaufen. Bitte die Datei erneut hochladen.")
            )
            return redirect("agreement_actuals_import", agreement.pk)
        if payload["agreement"] != agreement.pk or payload["user"] != request.user.pk:
            raise PermissionDenied
        entries = actuals_csv.entries_load(payload["entries"])
        try:
            actuals.actuals_save(agreement=agreement, user=request.user, role=role, entries=entries)
        except ValidationError as error:
            context.update(form=ActualsImportForm(), errors=error.messages)
            return render(request, "agreements/actuals_import.html", context, status=400)
        messages.success(
            request,
            ngettext(
                "%(count)s Periode importiert.", "%(count)s Perioden importiert.", len(entries)
            )
            % {"count": len(entries)},
        )
        return redirect("agreement_actuals", agreement.pk)
    if request.method == "POST":
        form = ActualsImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data["csv_file"].read(actuals_csv.MAX_BYTES + 1)
            result = actuals_csv.actuals_csv_parse(agreement=agreement, data=data, role=role)
            context.update(form=form, result=result)
            if result.ok:
                context["payload"] = signing.dumps(
                    {
                        "agreement": agreement.pk,
                        "user": request.user.pk,
                        "entries": actuals_csv.entries_dump(result.entries),
                    },
                    salt=IMPORT_SALT,
                )
                context["periods"] = {p.start: p for p in actuals.agreement_periods(agreement)}
                context["preview"] = [
                    (
                        context["periods"][entry.period_start],
                        entry.line,
                        [
                            actuals.format_number(entry.values.get(name))
                            if name in entry.values
                            else ""
                            for name in (actuals_csv.COLUMNS[c] for c in result.columns)
                        ],
                    )
                    for entry in result.entries
                ]
                return render(request, "agreements/actuals_import.html", context)
            return render(request, "agreements/actuals_import.html", context, status=400)
        context["form"] = form
        return render(request, "agreements/actuals_import.html", context, status=400)
    context["form"] = ActualsImportForm()
    return render(request, "agreements/actuals_import.html", context)


@login_required
@require_GET
def agreement_goals_pdf(request, pk: int):
    """The dashboard as the German PDF "Zielerreichung" for the Geschäftsleitung."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    report = actuals.goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))
    try:
        pdf = render_goals_pdf(report, generated_at=timezone.now())
    except PdfRenderError:
        logger.exception("Goals report of agreement %s could not be rendered", agreement.pk)
        return _pdf_unavailable(request, agreement, mismatch=False)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"Zielerreichung-SLA-{agreement.pk}.pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def agreement_actuals_csv(request, pk: int):
    """The Ist-Werte as CSV for Excel (semicolon, UTF-8 with BOM); re-importable."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    text = actuals_csv.actuals_csv_export(
        agreement, PeriodActuals.objects.filter(agreement=agreement)
    )
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"Ist-Werte-SLA-{agreement.pk}.csv"
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
