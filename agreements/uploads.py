"""The framework document of section 4 ("Rahmen"): checking an uploaded PDF, storing it.

An upload is judged by its content, never by its name or the content type the browser
claims: it must start with ``%PDF-``, parse with pyHanko's reader, be unencrypted and
have between one and ``MAX_PAGES`` pages. The work is bounded: the file is at most
``settings.SLA_MAX_UPLOAD_BYTES``, pyHanko's limits for untrusted input cap what
compressed streams may expand to, nesting too deep for the parser is a refusal, and
the page-tree walk stops at a node budget and a deadline.

The file is stored under ``MEDIA_ROOT`` with a random name (``Agreement.framework_document``'s
``upload_to``); no URL serves the media root, only ``views.agreement_framework_document``
streams it to members of the organisation.
"""

import io
import os
import time
import unicodedata

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.pdf_utils.reader import PdfFileReader

from .enums import AgreementStatus
from .models import Agreement

PDF_MAGIC = b"%PDF-"
MAX_PAGES = 2000
# Real page trees are a few levels deep; the budgets only stop crafted files.
MAX_PAGE_TREE_DEPTH = 32
MAX_PAGE_TREE_NODES = 2 * MAX_PAGES
CHECK_SECONDS = 5.0
DEFAULT_DOWNLOAD_NAME = "Rahmendokument.pdf"

# The keys are the ValidationError codes. "empty" is also FileField's own code, with the
# same message; the others must differ from its codes, or the field puts its text in place.
MESSAGES = {
    "empty": _("Die Datei ist leer."),
    "too_large": _("Die Datei ist grösser als %(megabytes)s MB."),
    "not_pdf": _("Die Datei ist kein gültiges PDF."),
    "encrypted": _(
        "Das PDF ist verschlüsselt oder mit einem Passwort geschützt. "
        "Bitte eine ungeschützte Fassung hochladen."
    ),
    "no_pages": _("Das PDF enthält keine Seite."),
    "too_many_pages": _("Das PDF hat mehr als %(max_pages)s Seiten."),
    "too_complex": _(
        "Das PDF ist zu komplex, um es zu prüfen. Bitte eine einfachere Fassung hochladen, "
        "z. B. neu als PDF exportiert."
    ),
}


class _Refused(Exception):
    """Internal: why the content is not an acceptable PDF (a key of ``MESSAGES``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _refusal(code: str) -> ValidationError:
    params = {
        "megabytes": settings.SLA_MAX_UPLOAD_BYTES // (1024 * 1024),
        "max_pages": MAX_PAGES,
    }
    return ValidationError(MESSAGES[code], code=code, params=params)


def validate_framework_pdf(uploaded_file) -> None:
    """Raise ``ValidationError`` unless the file is a readable, unencrypted PDF within limits.

    ``uploaded_file`` is any Django ``File`` (an ``UploadedFile`` from a form). It is left
    positioned at its start, ready to be stored.
    """
    limit = settings.SLA_MAX_UPLOAD_BYTES
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise _refusal("too_large")
    uploaded_file.seek(0)
    # Read one byte past the limit: the size a client declares is not trusted either.
    data = uploaded_file.read(limit + 1)
    uploaded_file.seek(0)
    if not data:
        raise _refusal("empty")
    if len(data) > limit:
        raise _refusal("too_large")
    if not data.startswith(PDF_MAGIC):
        raise _refusal("not_pdf")
    try:
        _check_pdf(data)
    except _Refused as refused:
        raise _refusal(refused.code) from None


def _check_pdf(data: bytes) -> int:
    """The number of pages of the PDF ``data``; raises ``_Refused`` when it is not acceptable."""
    try:
        reader = PdfFileReader(
            io.BytesIO(data), strict=False, decode_limits=DecodeLimits.for_untrusted_input()
        )
        if reader.encrypted:
            raise _Refused("encrypted")
        pages = _count_pages(reader, deadline=time.monotonic() + CHECK_SECONDS)
    except _Refused:
        raise
    except (RecursionError, PdfDecodeLimitError):
        # Arrays or dictionaries nested thousands deep, or a stream the parser must inflate
        # that would grow past pyHanko's limits: a bomb, not a document.
        raise _Refused("too_complex") from None
    except Exception:
        # Whatever a malformed file makes the parser raise (PdfReadError, KeyError,
        # TypeError, a decode limit...), the answer to the user is the same.
        raise _Refused("not_pdf") from None
    if pages == 0:
        raise _Refused("no_pages")
    return pages


def _count_pages(reader: PdfFileReader, *, deadline: float) -> int:
    """Walk the page tree without recursion, refusing cycles and trees built to exhaust us."""
    stack = [(reader.root.raw_get("/Pages"), 0)]
    seen = set()
    pages = 0
    while stack:
        node_ref, depth = stack.pop()
        if not isinstance(node_ref, generic.IndirectObject) or node_ref.reference in seen:
            raise _Refused("not_pdf")
        if depth > MAX_PAGE_TREE_DEPTH or len(seen) >= MAX_PAGE_TREE_NODES:
            raise _Refused("too_complex")
        if time.monotonic() > deadline:
            raise _Refused("too_complex")
        seen.add(node_ref.reference)
        node = node_ref.get_object()
        node_type = node.get("/Type")
        if node_type == "/Page":
            pages += 1
            if pages > MAX_PAGES:
                raise _Refused("too_many_pages")
        elif node_type == "/Pages":
            stack.extend((kid, depth + 1) for kid in node["/Kids"])
        else:
            raise _Refused("not_pdf")
    return pages


class FrameworkDocumentField(forms.FileField):
    """The upload field of the Rahmen step: a PDF checked by ``validate_framework_pdf``.

    A plain file input: Django's ``ClearableFileInput`` would link the current file's
    media URL, which is never served. Show the current document with a link to
    ``agreement_framework_document`` instead.
    """

    widget = forms.FileInput(attrs={"accept": "application/pdf,.pdf"})
    default_validators = [validate_framework_pdf]
    default_error_messages = {"empty": MESSAGES["empty"]}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Dokumentation (PDF)"))
        kwargs.setdefault(
            "help_text",
            # format_lazy: the label is built at import, the language chosen per request.
            format_lazy(
                _("Ein PDF mit höchstens {megabytes} MB. Ersetzt ein bereits hochgeladenes."),
                megabytes=settings.SLA_MAX_UPLOAD_BYTES // (1024 * 1024),
            ),
        )
        super().__init__(**kwargs)


def download_name(original_name: str) -> str:
    """The name shown when the document is downloaded: the author's, made harmless."""
    name = os.path.basename(original_name.replace("\\", "/"))
    # Control characters would end up in a header; drop them, keep umlauts.
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip(" .")
    if not name:
        return DEFAULT_DOWNLOAD_NAME
    stem, extension = os.path.splitext(name)
    if extension.lower() != ".pdf":
        stem, extension = name, ".pdf"
    return stem[: 255 - len(extension)] + extension


def framework_document_replace(*, agreement: Agreement, uploaded_file) -> None:
    """Store a checked PDF as the draft's framework document, replacing the previous one.

    The file is checked again (nothing unchecked is ever stored), saved under a fresh
    random name, and its original name kept for the download. Only the two document
    fields are written: the caller's step save records the revision and who changed it.
    The replaced file is deleted once the transaction commits.
    """
    if agreement.status != AgreementStatus.DRAFT:
        raise ValueError("Only a draft's framework document can be replaced.")
    validate_framework_pdf(uploaded_file)
    previous = agreement.framework_document.name
    # The name given here is ignored by upload_to, which draws a random one.
    agreement.framework_document.save("framework.pdf", uploaded_file, save=False)
    agreement.framework_document_name = download_name(uploaded_file.name or "")
    agreement.save(update_fields=["framework_document", "framework_document_name"])
    _delete_on_commit(previous, agreement)


def framework_document_remove(*, agreement: Agreement) -> None:
    """Detach the draft's framework document and delete its file once the transaction commits."""
    if agreement.status != AgreementStatus.DRAFT:
        raise ValueError("Only a draft's framework document can be removed.")
    previous = agreement.framework_document.name
    agreement.framework_document = ""
    agreement.framework_document_name = ""
    agreement.save(update_fields=["framework_document", "framework_document_name"])
    _delete_on_commit(previous, agreement)


def _delete_on_commit(name: str, agreement: Agreement) -> None:
    """Delete a stored file after commit, unless another agreement still points to it.

    After commit, so a rolled-back save never points to a deleted file; the check for
    other agreements protects a renewal that took over its predecessor's document.
    """
    if not name:
        return
    storage = agreement.framework_document.storage

    def delete():
        still_used = (
            Agreement.objects.filter(framework_document=name).exclude(pk=agreement.pk).exists()
        )
        if not still_used:
            storage.delete(name)

    transaction.on_commit(delete)
