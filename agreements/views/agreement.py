"""One agreement's page: its status, who signs, the trail; and its framework document."""

import datetime
import itertools
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Min, Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from .. import uploads, wizard
from ..audit import audit_verify_head
from ..diff import agreement_diff
from ..document import SlaDocument
from ..download import signed_pdf_state
from ..enums import AuditAction, Party
from ..forms import DeclineForm, ReopenForm
from ..models import Agreement, AuditEvent, Signature
from ..negotiation.panel import comment_panel
from ..negotiation.reading import page_changes
from ..permissions import (
    Action,
    can_decline,
    can_edit,
    can_renew,
    can_reopen,
    can_sign,
    get_agreement_for,
)
from .responses import private_file_response


@login_required
@require_safe
def agreement_detail(request, pk: int):
    """The agreement, its sign-off status, the buttons the user may press, and the trail."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    signatures = load_signatures(agreement)
    valid = [s for s in signatures if s.is_valid]
    doc = SlaDocument(agreement, signatures=valid)
    trail, shown = trail_rows(agreement)
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
        **renewal_context(agreement),
        "decline_form": DeclineForm(auto_id="decline_%s"),
        "reopen_form": ReopenForm(auto_id="reopen_%s"),
        "trail": trail,
        "chain": audit_verify_head(agreement, shown),
        "pdf_state": signed_pdf_state(agreement),
        "changed_since": page_changes(request.user, agreement),
        # All threads; management, who has no wizard, comments here.
        **comment_panel(request, agreement, wizard.REVIEW.slug),
    }
    return render(request, "agreements/detail.html", context)


# Downloads of the signed PDF listed one by one on the agreement page: the latest ones.
TRAIL_DOWNLOADS_SHOWN = 10


@dataclass(frozen=True)
class HiddenDownloads:
    """Older downloads between two other events: one line on the page instead of a row each."""

    count: int
    first_sequence: int
    last_sequence: int
    first_at: datetime.datetime
    last_at: datetime.datetime


def trail_rows(agreement) -> tuple[list, list[AuditEvent]]:
    """The trail as the agreement page lists it, and the events it shows in full.

    Rows are (event, summary) pairs, oldest first. Every event is listed except the
    older downloads of the signed PDF: each download is an event, and management may
    download an agreement thousands of times over the years. The page lists the last
    ``TRAIL_DOWNLOADS_SHOWN`` and a ``HiddenDownloads`` line for each run of the rest,
    counted by the database (what it reads for them is an index range). They are kept
    and hashed like all others; ``verify_audit`` walks them.
    """
    trail = AuditEvent.objects.filter(agreement_id=agreement.pk)
    others = list(trail.exclude(action=AuditAction.PDF_DOWNLOADED).order_by("sequence"))
    latest = list(
        trail.filter(action=AuditAction.PDF_DOWNLOADED).order_by("-sequence")[
            :TRAIL_DOWNLOADS_SHOWN
        ]
    )[::-1]
    cutoff = latest[0].sequence if len(latest) == TRAIL_DOWNLOADS_SHOWN else 0
    downloads = trail.filter(action=AuditAction.PDF_DOWNLOADED, sequence__lt=cutoff)
    first_hidden = downloads.aggregate(first=Min("sequence"))["first"] or cutoff
    # The runs of hidden downloads lie between two other events: only the gaps between
    # the first hidden download and the cutoff can hold one (usually a single gap).
    bounds = [0, *(event.sequence for event in others), cutoff]
    gaps = [
        (low, min(high, cutoff))
        for low, high in itertools.pairwise(bounds)
        if low < cutoff and high > first_hidden
    ]
    aggregates = {}
    for index, (low, high) in enumerate(gaps):
        run = Q(sequence__gt=low, sequence__lt=high)
        aggregates |= {
            f"count_{index}": Count("pk", filter=run),
            f"first_{index}": Min("sequence", filter=run),
            f"last_{index}": Max("sequence", filter=run),
            f"first_at_{index}": Min("created_at", filter=run),
            f"last_at_{index}": Max("created_at", filter=run),
        }
    runs = downloads.aggregate(**aggregates) if aggregates else {}
    hidden = [
        HiddenDownloads(
            runs[f"count_{index}"],
            runs[f"first_{index}"],
            runs[f"last_{index}"],
            runs[f"first_at_{index}"],
            runs[f"last_at_{index}"],
        )
        for index in range(len(gaps))
        if runs[f"count_{index}"]
    ]
    shown = sorted([*others, *latest], key=lambda event: event.sequence)
    rows = sorted(
        [(event, _audit_summary(event)) for event in shown] + [(run, "") for run in hidden],
        key=lambda row: getattr(row[0], "sequence", None) or row[0].first_sequence,
    )
    return rows, shown


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
    return private_file_response(
        handle,
        filename=agreement.framework_document_name or uploads.DEFAULT_DOWNLOAD_NAME,
        content_type="application/pdf",
    )


def renewal_context(agreement) -> dict:
    """The agreement's predecessor and successor, and what changed against the predecessor."""
    predecessor = agreement.renews
    return {
        "predecessor": predecessor,
        "successor": Agreement.objects.filter(renews=agreement).first(),
        "changes": agreement_diff(predecessor, agreement) if predecessor else [],
    }


def load_signatures(agreement) -> list[Signature]:
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
