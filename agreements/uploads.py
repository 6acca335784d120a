"""The framework document of section 4 ("Rahmen"): checking an uploaded PDF, storing it.

An upload is judged by its content, never by its name or the content type the browser
claims: it must start with ``%PDF-``, end with ``%%EOF`` (nothing appended after it),
parse with pyHanko's reader, be unencrypted, have between one and ``MAX_PAGES`` pages
and carry no JavaScript and no Launch action: the file travels inside every PDF of the
agreement, and a reader that opens it must not run anything. The work is bounded: the
file is at most ``settings.SLA_MAX_UPLOAD_BYTES``, it is parsed in a child process
whose memory and CPU time are capped (``agreements.sandbox``), pyHanko's limits for
untrusted input cap what compressed streams may expand to, nesting too deep for the
parser is a refusal, and the walks over the page tree and the objects stop at budgets
and a deadline.

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

from .models import Agreement
from .permissions import content_editable
from .sandbox import LimitExceeded, run_capped

PDF_MAGIC = b"%PDF-"
MAX_PAGES = 2000
# Real page trees are a few levels deep; the budgets only stop crafted files.
MAX_PAGE_TREE_DEPTH = 32
MAX_PAGE_TREE_NODES = 2 * MAX_PAGES
CHECK_SECONDS = 5.0
MAX_OBJECTS = 500_000
PDF_EOF = b"%%EOF"
TRAILING_WHITESPACE = b" \t\r\n\f\x00"
# /JS holds an action's script, /JavaScript the catalog's name tree of scripts.
ACTIVE_KEYS = {"/JS", "/JavaScript"}
ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}
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
    "active_content": _(
        "Das PDF enthält JavaScript oder eine Aktion, die ein Programm startet. Bitte eine "
        "Fassung ohne aktive Inhalte hochladen, z. B. neu als PDF exportiert."
    ),
    "appended_data": _(
        "Nach dem Ende des PDF folgen weitere Daten. Bitte eine saubere Fassung hochladen, "
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
        problem = run_capped(framework_pdf_problem, data)
    except LimitExceeded:
        problem = "too_complex"
    if problem:
        raise _refusal(problem)


def framework_pdf_problem(data: bytes) -> str | None:
    """Why the PDF ``data`` is refused (a key of ``MESSAGES``), or None; in the sandbox."""
    if not data.rstrip(TRAILING_WHITESPACE).endswith(PDF_EOF):
        # A truncated file, or data after the end a reader does not show (a polyglot).
        return "appended_data" if PDF_EOF in data else "not_pdf"
    try:
        _check_pdf(data)
    except _Refused as refused:
        return refused.code
    return None


def _check_pdf(data: bytes) -> int:
    """The number of pages of the PDF ``data``; raises ``_Refused`` when it is not acceptable."""
    try:
        reader = PdfFileReader(
            io.BytesIO(data), strict=False, decode_limits=DecodeLimits.for_untrusted_input()
        )
        if reader.encrypted:
            raise _Refused("encrypted")
        deadline = time.monotonic() + CHECK_SECONDS
        pages = _count_pages(reader, deadline=deadline)
        if pages and _has_active_content(reader, deadline=deadline):
            raise _Refused("active_content")
    except _Refused:
        raise
    except (RecursionError, PdfDecodeLimitError, MemoryError):
        # Arrays or dictionaries nested thousands deep, a stream the parser must inflate
        # that would grow past pyHanko's limits, or objects past the sandbox's memory
        # cap: a bomb, not a document.
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


def _has_active_content(reader: PdfFileReader, *, deadline: float) -> bool:
    """Whether any object of any revision is JavaScript or an action that launches a program.

    Every object, and the dictionaries and arrays written inside it: actions hide in
    the catalog's /OpenAction, in /AA of pages and fields, in annotations' /A, in the
    name tree of document scripts.
    """
    xrefs = reader.xrefs
    refs = set()
    for revision in range(xrefs.total_revisions):
        refs |= xrefs.explicit_refs_in_revision(revision)
    if len(refs) > MAX_OBJECTS:
        raise _Refused("too_complex")
    for ref in refs:
        if time.monotonic() > deadline:
            raise _Refused("too_complex")
        stack = [reader.get_object(ref)]
        while stack:
            value = stack.pop()
            if isinstance(value, generic.DictionaryObject):
                if ACTIVE_KEYS & set(value) or value.get("/S") in ACTIVE_ACTIONS:
                    return True
                stack.extend(v for v in value.values() if _is_direct_container(v))
            elif isinstance(value, generic.ArrayObject):
                stack.extend(v for v in value if _is_direct_container(v))
    return False


def _is_direct_container(value) -> bool:
    # Indirect references are objects of their own, visited once each above.
    return isinstance(value, generic.DictionaryObject | generic.ArrayObject)


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
    if not content_editable(agreement):
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
    if not content_editable(agreement):
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
