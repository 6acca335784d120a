"""The PDF: the sealed download, the draft preview and the verify page."""

import logging

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from .. import archive
from ..audit import RequestMeta
from ..download import (
    SignedPdfPending,
    SignedPdfUnavailable,
    signed_pdf_download,
    signed_pdf_state,
)
from ..enums import SIGNED_STATUSES
from ..evidence.verification import signed_pdf_verify
from ..forms import PdfVerifyForm
from ..models import Agreement
from ..pdf import PdfRenderError, render_agreement_pdf
from ..permissions import Action, can_view, get_agreement_for
from .responses import private_file_response

logger = logging.getLogger(__name__)

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
    its SHA-256 check, the download written to the audit trail (``download``). Not
    stored yet: the page that says it is being made (503 with Retry-After), its task
    enqueued if none waits. Before signing, a preview with the "ENTWURF" watermark:
    rendered on each request, never sealed, never stored, never cached.
    """
    agreement = get_agreement_for(request.user, pk, Action.DOWNLOAD, only=PDF_DOWNLOAD_COLUMNS)
    if agreement.status not in SIGNED_STATUSES:
        # The preview renders the whole SLA: load the rest of it (the check is done).
        agreement.refresh_from_db(fields=[f.attname for f in Agreement._meta.concrete_fields])
        return _pdf_preview(request, agreement)
    try:
        download = signed_pdf_download(
            agreement=agreement, user=request.user, meta=RequestMeta.from_request(request)
        )
    except archive.SignedPdfMismatch:
        # Logged by signed_pdf_open. A changed file must not go out as the signed one.
        return pdf_unavailable(request, agreement, reason="mismatch")
    except SignedPdfPending as pending:
        return pdf_unavailable(request, agreement, reason="failed" if pending.failed else "pending")
    except SignedPdfUnavailable:
        return pdf_unavailable(request, agreement, reason="storage")
    return private_file_response(
        download.handle, filename=download.filename, content_type="application/pdf"
    )


@login_required
@require_GET
def agreement_pdf_state(request, pk: int):
    """The agreement page's PDF button as it stands now, for the page's poll while the
    signed PDF is being made (static/js/pdf-state.js): a fragment, never cached."""
    agreement = get_agreement_for(request.user, pk, Action.DOWNLOAD, only=PDF_DOWNLOAD_COLUMNS)
    response = render(
        request,
        "agreements/_pdf_state.html",
        {"agreement": agreement, "pdf_state": signed_pdf_state(agreement)},
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


def _pdf_preview(request, agreement):
    try:
        pdf = render_agreement_pdf(agreement, draft=True)
    except PdfRenderError:
        logger.exception("Draft preview of agreement %s could not be rendered", agreement.pk)
        return pdf_unavailable(request, agreement, reason="failed")
    # Shown in the browser, and never cached: a draft changes with every save.
    return private_file_response(
        pdf,
        filename=archive.signed_pdf_filename(agreement, draft=True),
        content_type="application/pdf",
        as_attachment=False,
    )


# Seconds after which a browser (or a script) may ask again for a PDF being made.
PDF_RETRY_AFTER = 5


def pdf_unavailable(request, agreement, *, reason: str):
    """The page for a PDF that cannot be served now; ``reason`` says why.

    "mismatch": the stored file fails its check (kept, not replaced): 409. "pending":
    being made; "failed": its task gave up (staff see it in the admin); "storage": the
    storage cannot be read: 503, the first with a Retry-After.
    """
    response = render(
        request,
        "agreements/pdf_unavailable.html",
        {"agreement": agreement, "reason": reason},
        status=409 if reason == "mismatch" else 503,
    )
    if reason == "pending":
        response["Retry-After"] = str(PDF_RETRY_AFTER)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pdf_verify(request):
    """Upload a PDF and learn whether it is a signed SLA exactly as the portal stored it,
    and what it proves by itself (seal, certification, timestamps, embedded content).

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
        result = signed_pdf_verify(form.cleaned_data["pdf"])
    context = {
        "form": form,
        "result": result,
        "can_open": bool(result and result.authentic and can_view(request.user, result.agreement)),
    }
    return render(request, "agreements/verify.html", context, status=422 if form.errors else 200)
