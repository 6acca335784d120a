"""The SLA as a PDF: WeasyPrint renders the same ``document.html`` as the browser.

``render_agreement_pdf`` wraps the document in ``templates/agreements/pdf.html`` (print
CSS, running header, "Seite N von M", the appendix and the audit page on pages of their
own) and returns tagged PDF/A-3a bytes, identified as PDF/UA-1 too
(``agreements.pdf_accessible``), with the font embedded. ``agreements.seal`` seals
them; ``agreements.archive`` renders a signed agreement once, seals and stores it.

A signed PDF carries what was signed: the canonical content JSON whose SHA-256 its
audit page prints travels inside as a PDF/A-3 associated file (``/AFRelationship
/Data``), so anyone can recompute the hash with standard tools (docs/evidence.md). The
framework document of section 4 travels along as ``/Supplement``.

WeasyPrint fetches every stylesheet, font and image through ``StaticFilesFetcher``,
which serves our own static files from disk and refuses everything else by raising, so
that a render with a refused resource fails instead of quietly printing a gap. User
text is escaped by the templates; the fetcher is the second wall should markup slip
through (``<img src="file:///etc/passwd">``, a CSS ``url()`` at 127.0.0.1).
"""

from __future__ import annotations

import datetime
import mimetypes
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils._os import safe_join
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .document import FRAMEWORK_DOCUMENT_DEFAULT_NAME, SWISS_TIME_ZONE, SlaDocument
from .enums import Party
from .pdf_accessible import identify_pdf_ua, pagination_as_artifacts, tab_order_follows_structure
from .snapshot import sha256_hex

# The document's own origin. ".invalid" never resolves (RFC 2606): even a URL that
# escaped the fetcher could not reach a host. Only STATIC_URL below it is served.
PDF_BASE_URL = "https://sla-portal.invalid/"

# Tagged for screen readers and archival (PDF/A-3 level A); agreements.pdf_accessible adds
# the PDF/UA-1 identification. PDF/A-3 because the signed content travels inside (/AF).
PDF_VARIANT = "pdf/a-3a"

# The signed content inside the PDF (see the module's docstring).
CONTENT_FILE_NAME = "SLA-Inhalt.json"
CONTENT_FILE_DESCRIPTION = (
    "Unterzeichneter Inhalt der Vereinbarung (kanonisches JSON, UTF-8); "
    "sein SHA-256 steht im Prüfprotokoll"
)
FRAMEWORK_FILE_DESCRIPTION = "Dokumentation des Inbound Marketing & Sales Systems (Abschnitt 4)"


class PdfResourceRefused(Exception):
    """WeasyPrint asked for a resource that is not one of our static files."""


class PdfRenderError(Exception):
    """The PDF could not be rendered completely (a resource was refused or missing)."""


class StaticFilesFetcher(URLFetcher):
    """A WeasyPrint URL fetcher for our static files, from disk, and nothing else.

    Accepted: ``PDF_BASE_URL`` + ``STATIC_URL`` + a static file's name, found by the
    staticfiles finders (development, tests) or in ``STATIC_ROOT`` (collected, hashed
    names in production). Refused, by raising ``PdfResourceRefused``: every other scheme
    or host (``file:``, ``http(s):``, ``data:``, ``ftp:``), query strings, ``..``
    segments, and names that no finder knows. WeasyPrint turns the exception into a
    fatal error because ``fail_on_errors`` is on, so the render stops.
    """

    def __init__(self):
        # No protocol handler is ever used: fetch() below never calls the opener.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=True)

    @property
    def static_prefix(self) -> str:
        return urljoin(PDF_BASE_URL, settings.STATIC_URL)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = self.static_path(url)
        content_type, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            url,
            path.read_bytes(),
            {"Content-Type": content_type or "application/octet-stream"},
        )

    def static_path(self, url: str) -> Path:
        """The file on disk behind one of our static URLs; raises for anything else."""
        prefix = self.static_prefix
        if not url.startswith(prefix):
            raise PdfResourceRefused(f"Nur eigene statische Dateien erlaubt: {url[:200]!r}")
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise PdfResourceRefused(f"Abfrage in statischer Adresse: {url[:200]!r}")
        name = unquote(url[len(prefix) :])
        segments = name.split("/")
        if "\\" in name or "\x00" in name or {"", ".", ".."} & set(segments):
            raise PdfResourceRefused(f"Ungültiger Dateiname: {name[:200]!r}")
        try:
            found = finders.find(name)
            # Collected (and in production hashed) names live only in STATIC_ROOT;
            # safe_join refuses anything that would leave it.
            path = Path(found) if found else Path(safe_join(settings.STATIC_ROOT, name))
        except SuspiciousFileOperation as error:
            raise PdfResourceRefused(f"Ungültiger Dateiname: {name[:200]!r}") from error
        if not path.is_file():
            raise PdfResourceRefused(f"Statische Datei nicht gefunden: {name[:200]!r}")
        return path


@dataclass(frozen=True)
class SignatureRow:
    """One given signature, as the signature block and the audit page print it.

    Its first fields carry a ``Signature``'s names (``party``, ``typed_name``,
    ``job_title``, ``signed_at``): ``SlaDocument(signatures=...)`` fills the signature
    block from these rows exactly as it fills the browser page from Signature rows.
    """

    party: Party
    typed_name: str
    job_title: str  # the signer's Membership.job_title, e.g. "Leiterin Inbound Marketing"
    signed_at: datetime.datetime  # aware; printed in Europe/Zurich
    username: str = ""
    ip_address: str = ""
    user_agent: str = ""

    @classmethod
    def from_signature(cls, signature) -> SignatureRow:
        """The row of a stored signature, annotated ``with_job_title()`` (else no function)."""
        return cls(
            party=Party(signature.party),
            typed_name=signature.typed_name,
            job_title=getattr(signature, "job_title", None) or "",
            signed_at=signature.signed_at,
            username=signature.user.get_username(),
            ip_address=signature.ip_address or "",
            user_agent=signature.user_agent,
        )

    @property
    def party_label(self) -> str:
        return f"„{Party(self.party).label}“"

    @property
    def signed_at_zurich(self) -> str:
        return zurich_datetime(self.signed_at)


@dataclass(frozen=True)
class AuditPageData:
    """What the "Prüfprotokoll" at the end of a signed PDF states.

    Filled by ``agreements.archive`` from the Signature rows and the submitted snapshot.
    """

    agreement_id: int
    revision: int
    content_sha256: str  # of the submitted content the parties signed
    verify_url: str  # absolute URL of the verify page
    signatures: Sequence[SignatureRow] = ()
    # The submitted content as canonical JSON (``snapshot.canonical_json``), whose SHA-256
    # is ``content_sha256``; embedded in the PDF when given.
    content_json: str = ""
    # The comment threads of the draft, frozen with the text: how many, how many open.
    # Their content stays in the portal (agreements.negotiation), not in the contract.
    comment_threads: int = 0
    open_threads: int = 0


def zurich_datetime(value: datetime.datetime) -> str:
    """An aware time as the audit page prints it: "15.01.2027, 14:05:09 Uhr (UTC+01:00)"."""
    local = value.astimezone(SWISS_TIME_ZONE)
    offset = local.strftime("%z")
    return f"{local:%d.%m.%Y, %H:%M:%S} Uhr (UTC{offset[:3]}:{offset[3:]})"


def render_agreement_pdf(
    agreement,
    *,
    signatures: Sequence[SignatureRow] | None = None,
    audit_page: AuditPageData | None = None,
    draft: bool = False,
) -> bytes:
    """Render an agreement as a tagged PDF/A-3a document and return its bytes.

    ``signatures`` fill the signature block through ``SlaDocument``, the same mechanism
    as the browser page (usually the same rows as ``audit_page.signatures``); None reads
    the agreement's valid signatures as the page does. ``audit_page`` adds the
    "Prüfprotokoll" as the last page, and the signed content it hashes as an attachment;
    ``draft`` prints an "ENTWURF" watermark on every page (draft previews are never
    sealed). The framework document, when uploaded, travels inside as an attachment.
    Raises ``PdfRenderError`` when a resource was refused or could not be read, or the
    submitted content no longer has the hash the audit page would print.
    """
    doc = SlaDocument(agreement, signatures=signatures)
    fetcher = StaticFilesFetcher()
    attachments = _framework_attachments(agreement, fetcher)
    if audit_page is not None and audit_page.content_json:
        attachments.append(_content_attachment(agreement, audit_page, fetcher))
    html = render_to_string(
        "agreements/pdf.html",
        {
            "doc": doc,
            "agreement": agreement,
            "audit_page": audit_page,
            # A signed party's block points to the audit page ("Nachweis: Prüfprotokoll").
            "evidence_anchor": "pdf-audit" if audit_page else "",
            "content_file_name": CONTENT_FILE_NAME,
            "draft": draft,
            "author": f"Marketing und Sales der {doc['firma'].plain}",
            "subject": (
                "Leistungsvereinbarung zwischen Marketing und Sales, gültig vom "
                f"{doc['start_date'].plain} bis {doc['end_date'].plain}"
            ),
        },
    )
    return write_accessible_pdf(html, fetcher=fetcher, attachments=attachments)


def write_accessible_pdf(
    html: str,
    *,
    fetcher: StaticFilesFetcher,
    attachments: Sequence[weasyprint.Attachment] = (),
) -> bytes:
    """One of our HTML documents as a tagged PDF/A-3a that also identifies as PDF/UA-1.

    Every PDF of the portal (the SLA, its draft preview, the goals report) is written
    here, so all of them carry the same structure: ``agreements.pdf_accessible`` says
    what is added to WeasyPrint's tagging and why.
    """
    options = {
        "pdf_variant": PDF_VARIANT,
        "attachments": list(attachments),
        # Unused glyphs stay out, and so does the font's hinting: smaller files.
        "full_fonts": False,
    }
    try:
        document = weasyprint.HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher).render(
            font_config=font_configuration(), **options
        )
        identify_pdf_ua(document)
        return document.write_pdf(finisher=_finish, **options)
    except FatalURLFetchingError as error:
        # A BaseException in WeasyPrint: turn it into an ordinary error for our callers.
        raise PdfRenderError(str(error.__cause__ or error)) from error


def _finish(document, pdf) -> None:
    """The ``write_pdf`` finisher: associated files once, page header and footer artifacts,
    the tab order of the structure."""
    _associated_files_once(document, pdf)
    pagination_as_artifacts(pdf)
    tab_order_follows_structure(pdf)


_per_thread = threading.local()


def font_configuration() -> FontConfiguration:
    """The WeasyPrint font configuration of this thread, kept for the life of the process.

    Pass it to every ``write_pdf``. Without one WeasyPrint makes a new configuration for
    each render, and not all of its native memory (fontconfig's configuration, Pango's
    font map) comes back when it is dropped: a process grew by some 0.25 MB per PDF, 30 %
    over 200 renders (bench/results.md, issue 7); with one kept it stays flat. It also
    loads the @font-face fonts of print.css once instead of at every render. One per
    thread, because WeasyPrint does not say a configuration may be shared between threads.
    """
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        config = _per_thread.font_config = FontConfiguration()
    return config


def _framework_attachments(agreement, fetcher: StaticFilesFetcher) -> list[weasyprint.Attachment]:
    """The uploaded framework document (section 4), embedded as a PDF/A-3 attachment."""
    document = getattr(agreement, "framework_document", None)
    if not document:
        return []
    with document.open("rb") as file:
        content = file.read()
    return [
        weasyprint.Attachment(
            string=content,
            name=agreement.framework_document_name or FRAMEWORK_DOCUMENT_DEFAULT_NAME,
            description=FRAMEWORK_FILE_DESCRIPTION,
            relationship="Supplement",
            url_fetcher=fetcher,
        )
    ]


def _content_attachment(
    agreement, audit_page: AuditPageData, fetcher: StaticFilesFetcher
) -> weasyprint.Attachment:
    """The signed content as the canonical JSON whose SHA-256 the audit page prints.

    A text that does not hash to the printed value stops the render rather than ship a
    PDF that contradicts itself.
    """
    content = audit_page.content_json
    if sha256_hex(content) != audit_page.content_sha256:
        raise PdfRenderError(
            f"Agreement {agreement.pk}: the signed content does not hash to its content_sha256."
        )
    submitted = (agreement.submitted_at or datetime.datetime.now(datetime.UTC)).astimezone(
        datetime.UTC
    )
    return weasyprint.Attachment(
        string=content.encode("utf-8"),
        name=CONTENT_FILE_NAME,  # ".json": WeasyPrint files it as application/json
        description=CONTENT_FILE_DESCRIPTION,
        relationship="Data",
        # WeasyPrint writes these as UTC ("...Z"); the time the content was frozen.
        created=submitted.replace(tzinfo=None),
        modified=submitted.replace(tzinfo=None),
        url_fetcher=fetcher,
    )


def _associated_files_once(document, pdf) -> None:
    """A ``write_pdf`` finisher: each file spec once in the catalog's ``/AF``.

    WeasyPrint 70 lists every attachment twice there (Kozea/WeasyPrint#2917: once from
    the name tree, once from the file spec objects). Readers cope, but the associated
    files should be a plain list, and a later fix upstream leaves nothing to do here.
    """
    associated = pdf.catalog.get("AF")
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)


# German words in the PDF's stylesheet, in a column so narrow that they must be hyphenated:
# enough to load what every render needs once per process (see pdf_warm_up).
WARM_UP_HTML = """<!DOCTYPE html><html lang="de-CH"><head><meta charset="utf-8">
<link rel="stylesheet" href="{stylesheet}"></head><body>
<article class="sla-document" lang="de-CH" style="width: 30mm"><h1>Leistungsvereinbarung</h1>
<p>Die <strong>Geschäftsleitung</strong> überprüft die <em>Zielerreichung</em> regelmässig.</p>
</article></body></html>"""


def pdf_warm_up() -> None:
    """Render a tiny PDF so that the first real render of this process is not slow.

    The first render in a process loads pyphen's de_CH hyphenation dictionary (about a
    second), the fonts and the PDF/A colour profile; without this the first user after
    a worker starts would wait three times as long as the next one (bench/, issue 7).
    gunicorn.conf.py calls it once per worker, ``manage.py task_worker`` at its start; tests
    and other management commands do not.
    """
    from django.templatetags.static import static

    html = WARM_UP_HTML.format(stylesheet=static("css/print.css"))
    write_accessible_pdf(html, fetcher=StaticFilesFetcher())


def render_goals_pdf(report, *, generated_at: datetime.datetime) -> bytes:
    """The goals dashboard of one agreement as a German PDF, "Zielerreichung" (issue 8).

    ``report`` is an ``agreements.attainment.GoalReport``. The same fetcher and print.css as
    the SLA; not sealed and never stored: the figures change with every report.
    """
    from django.utils import translation

    from .goals_chart import funnel_attainment_svg, sql_attainment_svg

    # German like the SLA, whatever the reader's interface language: the status lights'
    # words and the period's name come from translated labels.
    with translation.override("de-ch"):
        html = render_to_string(
            "agreements/report_pdf.html",
            {
                "report": report,
                "agreement": report.agreement,
                "sql_chart": sql_attainment_svg(report.rows),
                "funnel_chart": funnel_attainment_svg(report.funnel),
                "generated_at": zurich_datetime(generated_at),
            },
        )
    return write_accessible_pdf(html, fetcher=StaticFilesFetcher())
