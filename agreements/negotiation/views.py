"""The pages of the negotiation: the "Verlauf" of an SLA, and the comment actions.

Thin, like ``agreements.views``: the agreement comes through ``get_agreement_for`` (404
for another organisation's), every comment action through ``negotiation.comments``.
The actions come from forms beside the wizard and on the review page and go back there
(``next``, only a path of this site).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from .. import wizard
from ..permissions import Action, get_agreement_for
from . import comments
from .forms import CommentForm, ThreadForm
from .history import history_events, history_rows
from .models import Comment, Thread
from .panel import KEPT_TEXT, threads_of

# Changes per page of the "Verlauf": a long negotiation's page stays quick to send and to
# read (bench/history.py: 2'000 saves listed whole took 2.7 s).
HISTORY_PAGE_SIZE = 100


@login_required
@require_safe
def agreement_history(request, pk: int):
    """Every change of every field, by step and field, filterable by person and field;
    and every comment thread of the SLA."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    events = list(history_events(agreement))
    people = {}
    for event in events:
        if event.actor_id:
            people.setdefault(event.actor_id, event.actor_name)
    person = _int(request.GET.get("person"))
    field = request.GET.get("feld", "")
    person = person if person in people else None
    rows = history_rows(
        events,
        steps={step.slug: step.title for step in wizard.STEPS},
        person=person,
        field=field,
    )
    page = Paginator(rows, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "agreement": agreement,
        "rows": page.object_list,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "page_query": urlencode({k: v for k, v in {"person": person, "feld": field}.items() if v}),
        "people": sorted(people.items(), key=lambda item: item[1].casefold()),
        "person": person,
        "field": field,
        "field_label": rows[0].label if field and rows else field,
        "threads": threads_of(agreement),
        "predecessor_id": agreement.renews_id,
    }
    return render(request, "agreements/negotiation/history.html", context)


@login_required
@require_POST
def agreement_comment_add(request, pk: int):
    """A new thread on a section (``section``), or a reply to one (``thread``)."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    thread_id = _int(request.POST.get("thread"))
    form = (CommentForm if thread_id else ThreadForm)(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, agreement, refused_text=request.POST.get("body", ""))
    try:
        if thread_id:
            thread = get_object_or_404(Thread, pk=thread_id, agreement=agreement)
            comments.comment_reply(thread=thread, user=request.user, body=form.cleaned_data["body"])
        else:
            comments.thread_open(
                agreement=agreement,
                section=form.cleaned_data["section"],
                user=request.user,
                body=form.cleaned_data["body"],
            )
    except comments.CommentError as error:
        messages.error(request, error.message)
        return _back(request, agreement, refused_text=form.cleaned_data["body"])
    messages.success(request, _("Kommentar gespeichert."))
    return _back(request, agreement)


@login_required
@require_POST
def agreement_comment_edit(request, pk: int, comment_id: int):
    """The author corrects their own comment within 15 minutes."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    comment = get_object_or_404(
        Comment.objects.select_related("thread__agreement"),
        pk=comment_id,
        thread__agreement=agreement,
    )
    if comment.author_id != request.user.pk:
        raise PermissionDenied
    form = CommentForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, agreement, refused_text=request.POST.get("body", ""))
    try:
        comments.comment_edit(comment=comment, user=request.user, body=form.cleaned_data["body"])
    except comments.CommentError as error:
        messages.error(request, error.message)
        return _back(request, agreement, refused_text=form.cleaned_data["body"])
    messages.success(request, _("Kommentar geändert."))
    return _back(request, agreement)


@login_required
@require_POST
def agreement_thread_resolve(request, pk: int, thread_id: int):
    """Mark a thread resolved (``resolved=1``) or open it again (``resolved=0``)."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    thread = get_object_or_404(Thread, pk=thread_id, agreement=agreement)
    resolved = request.POST.get("resolved", "1") == "1"
    try:
        comments.thread_resolve(thread=thread, user=request.user, resolved=resolved)
    except comments.CommentError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Diskussion erledigt.") if resolved else _("Diskussion wieder offen.")
        )
    return _back(request, agreement)


def _back(request, agreement, *, refused_text: str = ""):
    """Back to the page the form was on. A refused text waits there in the form
    (``panel.KEPT_TEXT``): nothing typed is lost."""
    if refused_text:
        request.session[KEPT_TEXT % agreement.pk] = refused_text
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if allowed and target.startswith("/"):
        return redirect(target)
    return redirect("agreement_history", pk=agreement.pk)


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
