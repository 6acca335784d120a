"""The SLA as a PDF: its text, pages, font, metadata, and what WeasyPrint may fetch.

The PDF is read back with poppler's tools (pdftotext, pdffonts, pdfinfo, pdfdetach,
pdfimages), as a reader's PDF viewer would see it.
"""

import datetime
import hashlib
import http.server
import re
import shutil
import subprocess
import tempfile
import threading
from io import BytesIO
from pathlib import Path

import pytest
import weasyprint
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings
from pyhanko.pdf_utils.reader import PdfFileReader
from weasyprint.urls import FatalURLFetchingError

from agreements.demo import load_demo
from agreements.enums import Party
from agreements.pdf import (
    PDF_BASE_URL,
    AuditPageData,
    PdfRenderError,
    PdfResourceRefused,
    SignatureRow,
    StaticFilesFetcher,
    render_agreement_pdf,
)
from tests.test_document import body_fragments

POPPLER_TOOLS = ("pdftotext", "pdffonts", "pdfinfo", "pdfdetach", "pdfimages")
pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in POPPLER_TOOLS),
    reason="poppler-utils missing (`make browsers` installs them)",
)

SIGNATURES = (
    SignatureRow(
        party=Party.MARKETING,
        typed_name="Anna Keller",
        job_title="Leiterin Inbound Marketing",
        username="marketing",
        signed_at=datetime.datetime(2026, 12, 1, 13, 5, 9, tzinfo=datetime.UTC),
        ip_address="192.0.2.10",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    ),
    SignatureRow(
        party=Party.SALES,
        typed_name="Marco Brunner",
        job_title="Leiter Inbound Sales",
        username="sales",
        signed_at=datetime.datetime(2026, 12, 2, 7, 30, 0, tzinfo=datetime.UTC),
        ip_address="2001:db8::7",
        user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    ),
)
CONTENT_SHA256 = "3f" * 32
VERIFY_URL = "https://sla.muster.example/pruefen/"
HEADINGS = [
    "1. Einleitung", "2. Geltungsbereich", "3. Parteien", "4. Rahmen", "5. Definitionen",
    "6. Zielsetzungen", "7. Metriken", "8. Verantwortungsbereiche", "9. Reporting",
    "10. Performance-Optimierung", "11. Erneuerung",
    "ANHANG: Inbound Marketing & Sales System inkl. Metriken", "Prüfprotokoll",
]  # fmt: skip


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        command = [tool, *args, file.name] + (["-"] if tool == "pdftotext" else [])
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    return poppler("pdftotext", pdf).split("\f")[:-1]


RUNNING_LINES = re.compile(
    r"^\f?(Muster AG|Leistungsvereinbarung \(SLA\) zwischen Marketing und Sales"
    r"|Seite \d+ von \d+)$",
    re.MULTILINE,
)


def body_text(pdf: bytes) -> str:
    """The text without the running header and footer that interrupt it at page breaks."""
    return RUNNING_LINES.sub("", poppler("pdftotext", pdf))


def squeeze(text: str) -> str:
    """Text without white space, hyphens and bullets: line breaks do not count."""
    return re.sub(r"[\s\-•]+", "", text)


def render_signed(agreement) -> bytes:
    return render_agreement_pdf(
        agreement,
        signatures=SIGNATURES,
        audit_page=AuditPageData(
            agreement_id=agreement.pk,
            revision=agreement.revision,
            content_sha256=CONTENT_SHA256,
            verify_url=VERIFY_URL,
            signatures=SIGNATURES,
        ),
    )


@pytest.fixture(scope="module")
def signed_demo_pdf(django_db_setup, django_db_blocker):
    """The signed demo SLA, rendered once for the tests that only read it."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        pdf = render_signed(load_demo())
        transaction.set_rollback(True)
    return pdf


@pytest.fixture
def loopback_server():
    """An HTTP server on 127.0.0.1 that records every request it gets (there must be none)."""
    requests = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


# --- The text -----------------------------------------------------------------------------


def test_signed_pdf_contains_every_fixed_sentence_and_value(signed_demo_pdf):
    text = poppler("pdftotext", signed_demo_pdf)
    assert "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG" in " ".join(
        text.split()
    )
    squeezed, position = squeeze(body_text(signed_demo_pdf)), 0
    for fragment in body_fragments():
        found = squeezed.find(squeeze(fragment), position)
        assert found >= 0, f"missing or out of order: {fragment!r}"
        position = found + len(squeeze(fragment))
    for value in ("01.01.2027", "31.12.2027", "Deutschschweiz", "Anna Keller", "Marco Brunner",
                  "Muster Inbound Playbook 2027", "16.11.2026", "01.12.2027"):  # fmt: skip
        assert value in text
    assert not re.search(r"\[[A-ZÄÖÜ_ ,/]+\]", text), "a placeholder was left"
    assert "……." not in text


def test_signed_pdf_numbers_its_pages(signed_demo_pdf):
    texts = pages(signed_demo_pdf)
    for number, text in enumerate(texts, start=1):
        assert f"Seite {number} von {len(texts)}" in text


def test_page_3_says_each_party_signed_electronically_and_points_to_the_audit_page(
    signed_demo_pdf,
):
    # Filled by SlaDocument from the rows, as the browser page is from Signature rows.
    # -layout keeps the two parties' blocks side by side, line by line.
    page_3 = " ".join(
        poppler("pdftotext", signed_demo_pdf, "-layout", "-f", "3", "-l", "3").split()
    )
    audit_page_number = len(pages(signed_demo_pdf))  # the Prüfprotokoll is the last page

    block = page_3[page_3.index("einverstanden erklären sich:") :]
    # 13:05 and 07:30 UTC are 14:05 and 08:30 in Zurich.
    assert (
        "Für „Marketing“ Für „Sales“ "
        "Elektronisch unterzeichnet am 01.12.2026, 14:05 Uhr "
        "Elektronisch unterzeichnet am 02.12.2026, 08:30 Uhr "
        "Anna Keller Marco Brunner "
        "Leiterin Inbound Marketing Leiter Inbound Sales "
        f"Nachweis: Prüfprotokoll, Seite {audit_page_number} "
        f"Nachweis: Prüfprotokoll, Seite {audit_page_number}"
    ) in block, block
    # Signed online: no line left to sign on paper.
    assert "……" not in block and "Name / Datum" not in block
    assert "Prüfprotokoll" in pages(signed_demo_pdf)[audit_page_number - 1]


def test_a_draft_keeps_the_lines_to_sign_on_paper(demo_agreement):
    pdf = render_agreement_pdf(demo_agreement, draft=True)

    text = " ".join(body_text(pdf).split())
    block = text[text.index("einverstanden erklären sich:") : text.index("ANHANG: Inbound")]
    assert block.count("……………………") == 2
    assert "Name / Datum · Anna Keller" in block and "Name / Datum · Marco Brunner" in block
    assert "Elektronisch unterzeichnet" not in block


def test_appendix_shows_the_funnel_figures_on_a_page_of_its_own(signed_demo_pdf):
    texts = pages(signed_demo_pdf)
    [appendix] = [text for text in texts if "ANHANG: Inbound Marketing" in text]
    previous = texts[texts.index(appendix) - 1]
    assert "Mit dieser Vereinbarung/SLA einverstanden erklären sich:" in previous
    assert "Mit dieser Vereinbarung" not in appendix and "11. Erneuerung" not in appendix
    for figure in ("34’000", "450", "570", "290", "260", "200"):
        assert figure in appendix
    for rate in ("1,3 %", "1,27 : 1", "50,9 %", "89,7 %", "76,9 %"):
        assert rate in appendix.replace("\u00a0", " ")
    for stage in ("ATTRACT", "IDENTIFY", "CONVERT", "CONNECT", "CLOSE", "Sales Qualified Leads"):
        assert stage in appendix


def test_audit_page_closes_the_pdf(signed_demo_pdf):
    audit = " ".join(pages(signed_demo_pdf)[-1].split())
    assert audit.startswith("Muster AG Leistungsvereinbarung (SLA)")  # the running header
    assert "Prüfprotokoll" in audit
    assert re.search(r"Nr\. \d+, Version 1", audit)
    assert CONTENT_SHA256 in squeeze(audit)
    for row in SIGNATURES:
        for value in (row.typed_name, row.job_title, row.username, row.ip_address):
            assert value in audit
        assert squeeze(row.user_agent) in squeeze(audit)
    # 13:05:09 UTC is 14:05:09 in Zurich in winter.
    assert "01.12.2026, 14:05:09 Uhr (UTC+01:00)" in audit
    assert "02.12.2026, 08:30:00 Uhr (UTC+01:00)" in audit
    assert VERIFY_URL in audit


def test_no_heading_is_left_alone_at_the_bottom_of_a_page(signed_demo_pdf):
    for text in pages(signed_demo_pdf):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith("Seite ")]
        assert body[-1] not in HEADINGS, f"heading alone at the page bottom: {body[-1]!r}"


def test_german_words_are_hyphenated_with_a_plain_hyphen(signed_demo_pdf):
    # -raw keeps the hyphens at the line ends where the layout put them.
    raw = poppler("pdftotext", signed_demo_pdf, "-raw")
    breaks = re.findall(r"(\w+)-\n([a-zäöü]\w*)", raw)
    # A break inside a word that has no hyphen of its own was made by hyphenation.
    plain = poppler("pdftotext", signed_demo_pdf)
    hyphenated = [(a, b) for a, b in breaks if f"{a}{b}" in plain and f"{a}-{b}" not in plain]
    assert len(hyphenated) >= 3, breaks
    # The hyphen is U+002D: search and copy find "Funktionsbereiche" and "Closed-Won".
    assert "\u2010" not in raw
    assert "Funktionsbereiche" in plain


# --- Font and metadata --------------------------------------------------------------------


def test_only_the_packaged_font_is_embedded(signed_demo_pdf):
    rows = poppler("pdffonts", signed_demo_pdf).splitlines()[2:]
    assert rows
    for row in rows:
        name, *_, embedded, _subset, _unicode, _object, _generation = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+Source-Sans-3(-[A-Za-z-]+)?,?", name), row
        assert embedded == "yes", row


def test_pdf_is_tagged_pdf_a_3a_and_pdf_ua_1_with_title_author_subject_and_language(
    signed_demo_pdf, tmp_path
):
    info = poppler("pdfinfo", signed_demo_pdf)
    assert (
        "Title:           Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG"
        in info
    )
    assert "Author:          Marketing und Sales der Muster AG" in info
    assert "Subject:         Leistungsvereinbarung zwischen Marketing und Sales" in info
    assert "Page size:       595.276 x 841.89 pts (A4)" in info
    assert "Tagged:          yes" in info
    path = tmp_path / "sla.pdf"
    path.write_bytes(signed_demo_pdf)
    with path.open("rb") as file:
        reader = PdfFileReader(file)
        assert reader.root["/Lang"] == "de-CH"
        xmp = reader.root["/Metadata"].data.decode()
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
        assert 'pdfuaid:part="1"' in xmp
        assert bool(reader.root["/MarkInfo"]["/Marked"])
        assert reader.root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"


# --- Variants -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_framework_document_travels_as_an_attachment(demo_agreement, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    framework = b"%PDF-1.4\n% Muster Inbound Playbook 2027\n%%EOF\n"
    demo_agreement.framework_document.save("upload.pdf", ContentFile(framework), save=False)
    demo_agreement.framework_document_name = "Playbook 2027.pdf"

    pdf = render_signed(demo_agreement)

    listing = poppler("pdfdetach", pdf, "-list")
    assert "1 embedded files" in listing and "Playbook 2027.pdf" in listing
    saved = tmp_path / "saved.pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        subprocess.run(["pdfdetach", "-save", "1", "-o", str(saved), file.name], check=True)
    assert saved.read_bytes() == framework
    # Section 4 names the attachment, now one of two (the signed content is the other).
    text = " ".join(poppler("pdftotext", pdf).split())
    assert "Inbound Marketing & Sales System Muster Inbound Playbook" in text
    assert "(Dokument im Anhang: Playbook 2027.pdf)" in text


def associated_files(pdf: bytes) -> list[dict]:
    """The catalog's /AF entries: name, relationship, MIME type and content of each."""
    reader = PdfFileReader(BytesIO(pdf))
    entries = []
    for reference in reader.root.raw_get("/AF"):
        spec = reference.get_object()
        stream = spec["/EF"]["/F"]
        entries.append(
            {
                "reference": (reference.idnum, reference.generation),
                "name": spec["/UF"],
                "relationship": spec["/AFRelationship"],
                "type": stream["/Subtype"],
                "data": stream.data,
            }
        )
    return entries


@pytest.mark.django_db
def test_a_signed_pdf_carries_the_signed_content_and_the_framework_each_once(
    demo_agreement, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    demo_agreement.framework_document.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    content = '{"organisation":"Muster AG","snapshot_version":1}'
    audit_page = AuditPageData(
        agreement_id=demo_agreement.pk,
        revision=1,
        content_sha256=hashlib.sha256(content.encode()).hexdigest(),
        verify_url=VERIFY_URL,
        content_json=content,
    )

    pdf = render_agreement_pdf(demo_agreement, audit_page=audit_page)

    files = associated_files(pdf)
    assert len({entry["reference"] for entry in files}) == len(files) == 2  # each once
    by_name = {entry["name"]: entry for entry in files}
    assert by_name["SLA-Inhalt.json"]["relationship"] == "/Data"
    assert by_name["SLA-Inhalt.json"]["type"] == "/application/json"
    assert by_name["SLA-Inhalt.json"]["data"] == content.encode()
    assert by_name["Rahmendokument.pdf"]["relationship"] == "/Supplement"
    assert by_name["Rahmendokument.pdf"]["type"] == "/application/pdf"


@pytest.mark.django_db
def test_content_that_does_not_hash_to_the_printed_value_stops_the_render(demo_agreement):
    audit_page = AuditPageData(
        agreement_id=demo_agreement.pk,
        revision=1,
        content_sha256=CONTENT_SHA256,
        verify_url=VERIFY_URL,
        content_json='{"organisation":"Andere AG"}',
    )

    with pytest.raises(PdfRenderError, match="does not hash"):
        render_agreement_pdf(demo_agreement, audit_page=audit_page)


@pytest.mark.django_db
def test_draft_preview_is_watermarked_on_every_page(demo_agreement):
    pdf = render_agreement_pdf(demo_agreement, draft=True)
    count = len(pages(pdf))
    for number in range(1, count + 1):
        # The watermark's letters are set one by one, rotated: read them in drawing order.
        page = poppler("pdftotext", pdf, "-raw", "-f", str(number), "-l", str(number))
        assert "ENTWURF" in squeeze(page)
    assert "Prüfprotokoll" not in "".join(pages(pdf))


# --- What WeasyPrint may fetch ------------------------------------------------------------


def test_fetcher_serves_our_stylesheet_and_font():
    fetcher = StaticFilesFetcher()
    css = fetcher.fetch(f"{PDF_BASE_URL}static/css/print.css")
    assert css.content_type == "text/css"
    assert b"@page" in css.read()
    font = fetcher.fetch(f"{PDF_BASE_URL}static/fonts/source-sans-3/SourceSans3-Regular.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1/",
        "http://localhost:8000/static/css/print.css",
        "https://example.org/x.css",
        "ftp://example.org/x.css",
        "data:text/css,body{color:red}",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "/static/../../etc/passwd",
        "static/css/print.css",
        f"{PDF_BASE_URL}etc/passwd",
        f"{PDF_BASE_URL}static/../../etc/passwd",
        f"{PDF_BASE_URL}static/%2e%2e/%2e%2e/etc/passwd",
        f"{PDF_BASE_URL}static/css/..%2f..%2fsettings.py",
        f"{PDF_BASE_URL}static/css%5c..%5c..%5cmanage.py",
        f"{PDF_BASE_URL}static//etc/passwd",
        f"{PDF_BASE_URL}static/css/print.css?x=1",
        f"{PDF_BASE_URL}static/css/does-not-exist.css",
        "https://sla-portal.invalid.example.org/static/css/print.css",
    ],
)
def test_fetcher_refuses_everything_but_our_static_files(url):
    with pytest.raises(PdfResourceRefused):
        StaticFilesFetcher().fetch(url)


def test_foreign_resources_stop_the_render_and_reach_nothing(loopback_server):
    base, requests = loopback_server
    for html in (
        '<img src="file:///etc/passwd">',
        f'<img src="{base}/pixel.png">',
        f'<link rel="stylesheet" href="{base}/style.css">',
        f"<style>body {{ background: url({base}/background.png) }}</style>",
        f"<style>@import url({base}/import.css);</style>",
        f"<style>@font-face {{ font-family: X; src: url({base}/font.ttf) }}</style>"
        '<p style="font-family: X">x</p>',
    ):
        document = weasyprint.HTML(
            string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()
        )
        with pytest.raises(FatalURLFetchingError):
            document.write_pdf()
    assert requests == []


@pytest.mark.django_db
def test_user_markup_is_printed_as_text_and_fetches_nothing(demo_agreement, loopback_server):
    base, requests = loopback_server
    hostile = f'<img src="file:///etc/passwd"> <style>body{{background:url({base}/leak)}}</style>'
    demo_agreement.definition_visits = hostile

    pdf = render_agreement_pdf(demo_agreement)

    assert squeeze(hostile) in squeeze(poppler("pdftotext", pdf))
    assert poppler("pdfimages", pdf, "-list").splitlines()[2:] == []  # no image at all
    assert requests == []


@pytest.mark.django_db
def test_a_missing_static_file_fails_the_render_instead_of_leaving_a_gap(
    demo_agreement, settings, tmp_path
):
    settings.STATICFILES_DIRS = []
    settings.STATIC_ROOT = tmp_path
    with pytest.raises(PdfRenderError, match=r"print\.css"):
        render_agreement_pdf(demo_agreement)


def test_the_font_is_installed_from_its_package_not_copied_into_the_repository():
    repository = Path(__file__).resolve().parent.parent
    tracked = subprocess.run(
        ["git", "ls-files", "*.ttf", "*.otf", "*.woff", "*.woff2"],
        cwd=repository, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    assert tracked == ""
    fetcher = StaticFilesFetcher()
    path = fetcher.static_path(f"{PDF_BASE_URL}static/fonts/source-sans-3/SourceSans3-Bold.ttf")
    assert "site-packages" in str(path) or "dist-packages" in str(path)
