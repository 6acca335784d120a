"""The PDF: the sealed download, the draft preview and the verify page."""

import logging

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from .. import archive
from ..audit import RequestMeta, audit_record
from ..enums import AuditAction
from ..evidence.archive_timestamps import signed_pdf_newest
from ..evidence.verification import signed_pdf_verify
from ..forms import PdfVerifyForm
from ..pdf import PdfRenderError, render_agreement_pdf
from ..permissions import Action, can_view, get_agreement_for

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
        # With archive timestamps (PAdES B-LTA) the newest version holds the most evidence.
        version = signed_pdf_newest(agreement)
        handle = archive.signed_pdf_open(agreement, file=version.file, sha256=version.sha256)
    except archive.SignedPdfMismatch:
        # Logged by signed_pdf_open. A changed file must not go out as the signed one.
        return pdf_unavailable(request, agreement, mismatch=True)
    except archive.SignedPdfError:
        logger.exception("Signed PDF of agreement %s could not be stored", agreement.pk)
        return pdf_unavailable(request, agreement, mismatch=False)
    with transaction.atomic():
        audit_record(
            agreement=agreement,
            action=AuditAction.PDF_DOWNLOADED,
            actor=request.user,
            meta=RequestMeta.from_request(request),
            details={"sha256": version.sha256},
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
        return pdf_unavailable(request, agreement, mismatch=False)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=archive.signed_pdf_filename(agreement, draft=True)
    )
    response["X-Content-Type-Options"] = "nosniff"
    # A draft changes with every save: a cached copy would show an old text.
    patch_cache_control(response, private=True, no_store=True)
    return response


def pdf_unavailable(request, agreement, *, mismatch: bool):
    """409 when the stored file fails its check (it is kept, not replaced), else 503."""
    return render(
        request,
        "agreements/pdf_unavailable.html",
        {"agreement": agreement, "mismatch": mismatch},
        status=409 if mismatch else 503,
    )


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
