"""PDF figures: our render against WeasyPrint alone, completion, first render, memory.

Each comparison is measured in pairs, one right after the other, so that a machine busy
with something else slows both sides of a ratio alike.

Run in the bench process (``render_vs_bare``, ``completion``) or, for what needs a fresh
process, as ``python -m bench.pdf first-render`` and ``python -m bench.pdf memory N``
(``bench/run.py`` starts those; they print one JSON line).
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager

from .common import Sample, log, measured_in_pairs, peak_rss_bytes, rss_bytes


@contextmanager
def captured_html():
    """Record the HTML string that our code hands to ``weasyprint.HTML``."""
    import weasyprint

    original = weasyprint.HTML
    strings: list[str] = []

    class RecordingHTML(original):
        def __init__(self, *args, string=None, **kwargs):
            strings.append(string)
            super().__init__(*args, string=string, **kwargs)

    weasyprint.HTML = RecordingHTML
    try:
        yield strings
    finally:
        weasyprint.HTML = original


def memory_fetcher():
    """A WeasyPrint fetcher that serves our static files from memory, loaded once.

    The bare render needs the same stylesheet and fonts as ours: without a base URL and a
    fetcher, WeasyPrint would not find ``/static/css/print.css`` and would lay out an
    unstyled document in another font, which is no floor for ours.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from agreements.pdf import StaticFilesFetcher

    loaded: dict[str, tuple[bytes, dict]] = {}
    static = StaticFilesFetcher()

    class MemoryFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url not in loaded:
                response = static.fetch(url)
                loaded[url] = (response.read(), dict(response.headers.items()))
            body, response_headers = loaded[url]
            return URLFetcherResponse(url, body, response_headers)

    return MemoryFetcher()


def render_vs_bare(agreement, repeat: int) -> dict:
    """Our render of a signed agreement against a bare WeasyPrint render of the same HTML.

    Ours: ``render_agreement_pdf`` as ``signed_pdf_store`` calls it (template, our static
    files fetcher, tagged PDF/A-3a, attachments). Bare: ``weasyprint.HTML(string=html,
    base_url=..., url_fetcher=<memory>).write_pdf()`` with WeasyPrint's defaults.
    """
    import weasyprint

    from agreements.archive import signed_render_inputs
    from agreements.pdf import PDF_BASE_URL, render_agreement_pdf

    inputs = signed_render_inputs(agreement)
    with captured_html() as strings:
        ours_pdf = render_agreement_pdf(agreement, **inputs)
    html = strings[-1]
    fetcher = memory_fetcher()

    def ours():
        return render_agreement_pdf(agreement, **inputs)

    def bare():
        return weasyprint.HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher).write_pdf()

    bare_pdf = bare()  # warm both before measuring
    ours_sample, bare_sample = measured_in_pairs(ours, bare, repeat)
    return {
        "ours": ours_sample,
        "bare": bare_sample,
        "ours_bytes": len(ours_pdf),
        "bare_bytes": len(bare_pdf),
        "html_chars": len(html),
    }


@contextmanager
def captured_writes():
    """Record the HTML that ``agreements.pdf.write_accessible_pdf`` is given."""
    from agreements import pdf

    original = pdf.write_accessible_pdf
    strings: list[str] = []

    def recording(html, **kwargs):
        strings.append(html)
        return original(html, **kwargs)

    pdf.write_accessible_pdf = recording
    try:
        yield strings
    finally:
        pdf.write_accessible_pdf = original


def tagged_vs_untagged(agreement, report, repeat: int) -> dict:
    """Issue 16: the tagged PDF/A-3a (PDF/UA-1) write against the untagged PDF/A-3b one.

    Both sides get the same HTML, attachments, fetcher and font configuration, for the
    signed demo SLA and for its goals report. Tagged: ``write_accessible_pdf`` (structure
    tree, PDF/UA identification, header and footer as artifacts). Untagged: the call it
    replaced, ``write_pdf(pdf_variant="pdf/a-3b")`` with the ``/AF`` finisher. A WeasyPrint
    attachment can be written once, so each write gets its own, made the way ours are.
    """
    import datetime

    import weasyprint

    from agreements import pdf
    from agreements.archive import signed_render_inputs

    inputs = signed_render_inputs(agreement)
    with captured_writes() as strings:
        pdf.render_agreement_pdf(agreement, **inputs)
        pdf.render_goals_pdf(report, generated_at=datetime.datetime.now(datetime.UTC))
    fetcher = pdf.StaticFilesFetcher()

    def sla_attachments():
        attachments = pdf._framework_attachments(agreement, fetcher)
        audit_page = inputs.get("audit_page")
        if audit_page is not None and audit_page.content_json:
            attachments.append(pdf._content_attachment(agreement, audit_page, fetcher))
        return attachments

    results = {}
    for label, html, attachments in (
        ("sla", strings[0], sla_attachments),
        ("goals", strings[1], list),
    ):

        def tagged(html=html, attachments=attachments):
            return pdf.write_accessible_pdf(html, fetcher=fetcher, attachments=attachments())

        def untagged(html=html, attachments=attachments):
            document = weasyprint.HTML(string=html, base_url=pdf.PDF_BASE_URL, url_fetcher=fetcher)
            return document.write_pdf(
                pdf_variant="pdf/a-3b",
                attachments=attachments(),
                full_fonts=False,
                font_config=pdf.font_configuration(),
                finisher=pdf._associated_files_once,
            )

        tagged_pdf, untagged_pdf = tagged(), untagged()  # warm both before measuring
        tagged_sample, untagged_sample = measured_in_pairs(tagged, untagged, repeat)
        results[label] = {
            "tagged": tagged_sample,
            "untagged": untagged_sample,
            "tagged_bytes": len(tagged_pdf),
            "untagged_bytes": len(untagged_pdf),
        }
    return results


def seal_vs_bare(agreement, repeat: int) -> dict:
    """``seal_pdf`` against pyHanko alone with the signer loaded once, on the same PDF."""
    from io import BytesIO

    from django.conf import settings
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from agreements.archive import signed_render_inputs
    from agreements.pdf import render_agreement_pdf
    from agreements.seal import seal_pdf

    document = render_agreement_pdf(agreement, **signed_render_inputs(agreement))
    signer = signers.SimpleSigner.load(
        str(settings.SLA_SEAL_KEY_FILE), str(settings.SLA_SEAL_CERT_FILE)
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="Portal-Siegel", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )

    def ours():
        return seal_pdf(document)

    def bare():
        output = BytesIO()
        writer = IncrementalPdfFileWriter(BytesIO(document))
        signers.sign_pdf(writer, metadata, signer=signer, output=output)
        return output.getvalue()

    ours()
    bare()
    ours_sample, bare_sample = measured_in_pairs(ours, bare, repeat)
    return {"ours": ours_sample, "bare": bare_sample}


def agreements_awaiting_second_signature(count: int, *, first_year: int = 2101) -> list:
    """Demo SLAs submitted and signed by marketing, through the real workflow."""
    from agreements.demo import DEMO_META, _create_agreement
    from agreements.enums import Party, Role
    from agreements.models import Membership, Organisation
    from agreements.workflow import agreement_sign, agreement_submit

    organisation = Organisation.objects.get(name="Muster AG")
    users = {
        Role(m.role): m.user
        for m in Membership.objects.filter(organisation=organisation).select_related("user")
    }
    waiting = []
    for year in range(first_year, first_year + count):
        agreement = _create_agreement(organisation, users, year=year)
        agreement = agreement_submit(
            agreement=agreement, user=users[Role.MARKETING], meta=DEMO_META
        )
        marketing = users[Role.MARKETING]
        agreement_sign(
            agreement=agreement,
            party=Party.MARKETING,
            user=marketing,
            typed_name=marketing.get_full_name(),
            content_sha256=agreement.content_sha256,
            meta=DEMO_META,
        )
        waiting.append(agreement)
    return waiting


def sign_second(agreement) -> None:
    """The second signature, as the sign view gives it, outside any transaction.

    ``agreement_sign`` commits and enqueues the PDF's task and the completion mail's.
    """
    from agreements.demo import DEMO_META
    from agreements.enums import Party
    from agreements.models import Agreement
    from agreements.workflow import agreement_sign

    sales = agreement.sales_representative
    agreement_sign(
        agreement=Agreement.objects.get(pk=agreement.pk),
        party=Party.SALES,
        user=sales,
        typed_name=sales.get_full_name(),
        content_sha256=agreement.content_sha256,
        meta=DEMO_META,
    )


def complete(agreement):
    """The second signature, then what its PDF task does; returns the agreement re-read.

    No worker runs in the bench's own process: ``signed_pdf_store`` does here what the
    task does in a worker. The task, should a worker run later, finds the PDF stored.
    """
    from agreements.archive import signed_pdf_store
    from agreements.models import Agreement

    sign_second(agreement)
    signed_pdf_store(agreement_id=agreement.pk)
    return Agreement.objects.select_related("organisation").get(pk=agreement.pk)


def completion(repeat: int) -> dict:
    """Second signature plus its PDF task's work, against render + seal of a signed twin.

    The floor renders and seals, as ``signed_pdf_store`` does, a demo SLA signed in this
    loop (the same document up to its year). Which of the two goes first alternates.
    The signature's call alone (it only enqueues) is the ``request`` sample.
    """
    from django.utils import timezone

    from agreements.archive import signed_pdf_store, signed_render_inputs
    from agreements.enums import AuditAction
    from agreements.models import Agreement
    from agreements.pdf import render_agreement_pdf
    from agreements.seal import seal_pdf

    waiting = agreements_awaiting_second_signature(repeat + 1)
    signed = complete(waiting.pop())  # warms the path
    completion_sample, render_sample, seal_sample, floor_sample = (
        Sample(),
        Sample(),
        Sample(),
        Sample(),
    )

    def floor(agreement):
        inputs = signed_render_inputs(agreement)
        start = time.perf_counter()
        pdf = render_agreement_pdf(agreement, **inputs)
        middle = time.perf_counter()
        seal_pdf(pdf)
        end = time.perf_counter()
        render_sample.values.append(middle - start)
        seal_sample.values.append(end - middle)
        floor_sample.values.append(end - start)

    request_sample = Sample()
    for index, agreement in enumerate(waiting):
        if index % 2:
            floor(signed)
        started_at = timezone.now()
        start = time.perf_counter()
        sign_second(agreement)
        request_sample.values.append(time.perf_counter() - start)
        signed_pdf_store(agreement_id=agreement.pk)
        signed = Agreement.objects.select_related("organisation").get(pk=agreement.pk)
        # Up to the PDF stored: its audit event is written with the file, in the same
        # transaction.
        stored_at = signed.audit_events.get(action=AuditAction.PDF_STORED).created_at
        completion_sample.values.append((stored_at - started_at).total_seconds())
        if not index % 2:
            floor(signed)
    return {
        "completion": completion_sample,
        "request": request_sample,
        "render": render_sample,
        "seal": seal_sample,
        "floor": floor_sample,
    }


def synthetic_pdf(size: int) -> bytes:
    """A real one-page PDF of about ``size`` bytes: random bytes in an unused stream.

    Random, so that no compression on the way (WeasyPrint's, the seal's) makes it smaller.
    """
    import io
    import os

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    content = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
    writer.insert_page(PageObject(contents=content, media_box=[0, 0, 595, 842]))
    writer.add_object(generic.StreamObject(stream_data=os.urandom(max(size - 1000, 0))))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def signed_agreement_with_attachment(size: int, *, year: int):
    """A demo SLA whose framework document makes its sealed PDF about ``size`` bytes.

    The document is stored directly (an upload would refuse more than 10 MB) before the
    agreement is submitted; signing and storing then go through the real workflow, so
    the PDF is rendered with the attachment inside, sealed and stored as any other.
    """
    from django.core.files.base import ContentFile

    from agreements.demo import DEMO_META, _create_agreement
    from agreements.enums import Role
    from agreements.models import Membership, Organisation
    from agreements.workflow import agreement_sign, agreement_submit

    organisation = Organisation.objects.get(name="Muster AG")
    users = {
        Role(m.role): m.user
        for m in Membership.objects.filter(organisation=organisation).select_related("user")
    }
    agreement = _create_agreement(organisation, users, year=year)
    # The sealed PDF adds about 45 KB of document, audit page and seal to the attachment.
    agreement.framework_document.save(
        "rahmen.pdf", ContentFile(synthetic_pdf(max(size - 45_000, 1000))), save=False
    )
    agreement.framework_document_name = "Rahmendokument.pdf"
    agreement.save(update_fields=["framework_document", "framework_document_name"])
    agreement = agreement_submit(agreement=agreement, user=users[Role.MARKETING], meta=DEMO_META)
    marketing = users[Role.MARKETING]
    agreement_sign(
        agreement=agreement,
        party="marketing",
        user=marketing,
        typed_name=marketing.get_full_name(),
        content_sha256=agreement.content_sha256,
        meta=DEMO_META,
    )
    return complete(agreement)


# --- in a fresh process ------------------------------------------------------------------


def _fresh_process_agreement():
    from agreements.archive import signed_render_inputs
    from agreements.demo import signed_demo_agreement

    agreement = signed_demo_agreement()
    return agreement, signed_render_inputs(agreement)


def first_render_probe() -> dict:
    """A fresh process: Django set up, then the first render and three warm ones."""
    from agreements.pdf import render_agreement_pdf

    agreement, inputs = _fresh_process_agreement()
    times = []
    for _ in range(4):
        start = time.perf_counter()
        render_agreement_pdf(agreement, **inputs)
        times.append(time.perf_counter() - start)
    return {"first": times[0], "warm": times[1:]}


def memory_probe(count: int) -> dict:
    """One process renders ``count`` PDFs in a row; its RSS after each one."""
    from agreements.pdf import render_agreement_pdf

    agreement, inputs = _fresh_process_agreement()
    rss = []
    for index in range(count):
        render_agreement_pdf(agreement, **inputs)
        rss.append(rss_bytes())
        if index % 50 == 49:
            log(f"memory probe: {index + 1} of {count} renders")
    return {"rss": rss, "peak": peak_rss_bytes()}


if __name__ == "__main__":
    from .common import django_setup

    django_setup()
    command = sys.argv[1]
    if command == "first-render":
        result = first_render_probe()
    elif command == "memory":
        result = memory_probe(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))
