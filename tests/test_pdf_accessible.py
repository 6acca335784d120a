"""The PDFs read out well (issue 16): tagged PDF/A-3a that identifies as PDF/UA-1.

The signed SLA, its draft preview and the goals report each have a structure tree a
screen reader follows (headings, lists, tables with header cells, charts with a text
alternative), the page header and footer are artifacts it skips, names are never
hyphenated, and the seal still validates over the tagged file.
"""

import re
from io import BytesIO

import pytest
from django.templatetags.static import static
from django.utils import timezone
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject, NullObject
from pyhanko.pdf_utils.reader import PdfFileReader

from agreements.actuals import agreement_periods
from agreements.attainment import goal_report
from agreements.document import SlaDocument
from agreements.models import PeriodActuals
from agreements.pdf import (
    StaticFilesFetcher,
    render_agreement_pdf,
    render_goals_pdf,
    write_accessible_pdf,
)
from agreements.seal import seal_pdf
from tests.factories import make_signed_goals_agreement
from tests.test_pdf import poppler, render_signed
from tests.test_seal import pdfsig, seal_settings  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def structure(pdf: bytes) -> list[tuple[str, str]]:
    """Every structure element as (type, alternative text), in reading order."""
    root = PdfFileReader(BytesIO(pdf)).root["/StructTreeRoot"]
    found = []

    def walk(node):
        if isinstance(node, ArrayObject):
            for kid in node:
                walk(kid.get_object() if hasattr(kid, "get_object") else kid)
        elif isinstance(node, DictionaryObject) and "/S" in node:
            found.append((str(node["/S"])[1:], str(node.get("/Alt", ""))))
            walk(node.get("/K", ArrayObject()))

    walk(root["/K"])
    return found


def untagged_content(pdf: bytes) -> list[str]:
    """Marked content of each page that no structure element claims (should be none)."""
    reader = PdfFileReader(BytesIO(pdf))
    nums = reader.root["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    parents = {int(nums[i]): nums[i + 1].get_object() for i in range(0, len(nums), 2)}
    problems = []
    for index, page in enumerate(pages(reader)):
        content = page["/Contents"].data.decode("latin-1")
        claimed = parents[page["/StructParents"]]
        for mcid in map(int, re.findall(r"/MCID (\d+)", content)):
            if mcid >= len(claimed) or isinstance(claimed[mcid], NullObject):
                problems.append(f"page {index + 1}: MCID {mcid}")
    return problems


def artifacts_per_page(pdf: bytes) -> list[int]:
    reader = PdfFileReader(BytesIO(pdf))
    return [
        len(re.findall(rb"/Artifact\s*<<\s*/Type\s*/Pagination\s*>>\s*BDC", page["/Contents"].data))
        for page in pages(reader)
    ]


def pages(reader: PdfFileReader) -> list[DictionaryObject]:
    return [kid.get_object() for kid in reader.root["/Pages"]["/Kids"]]


def assert_accessible(pdf: bytes) -> list[tuple[str, str]]:
    """The checks all three PDFs pass; returns their structure for more specific ones."""
    info = poppler("pdfinfo", pdf)
    assert "Tagged:          yes" in info
    reader = PdfFileReader(BytesIO(pdf))
    assert reader.root["/Lang"] == "de-CH"
    assert bool(reader.root["/ViewerPreferences"]["/DisplayDocTitle"])
    xmp = reader.root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert 'pdfuaid:part="1"' in xmp
    # PDF/A allows a property outside its own schemas only when the file declares it.
    assert "<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/<" in xmp
    assert untagged_content(pdf) == []
    assert {str(page["/Tabs"]) for page in pages(reader)} == {"/S"}
    # "Seite N von M" on every page, the running header from page 2 on: artifacts.
    counts = artifacts_per_page(pdf)
    assert all(count >= 1 for count in counts), counts
    assert all(count >= 3 for count in counts[1:]), counts
    return structure(pdf)


def test_the_signed_sla_is_tagged_with_headings_lists_tables_and_the_funnel_described(
    demo_agreement,
):
    tags = assert_accessible(render_signed(demo_agreement))

    kinds = [kind for kind, _ in tags]
    assert kinds.count("H1") == 1
    assert kinds.count("H2") >= 12  # sections 1-11, the appendix, the audit page
    assert "H3" in kinds  # the audit page's signatures
    assert {"L", "LI", "Table", "TH", "TD"} <= set(kinds)
    figures = [alt for kind, alt in tags if kind == "Figure"]
    assert len(figures) == 1
    assert figures[0].startswith("Funnel-Diagramm: Visits 34’000")
    assert "die Zahlen stehen auch in der Tabelle" in figures[0]


def test_the_header_and_footer_are_not_read_as_part_of_the_text(demo_agreement):
    pdf = render_signed(demo_agreement)
    # Still printed: the artifacts are for readers that follow the structure.
    assert "Seite 2 von" in poppler("pdftotext", pdf)
    assert untagged_content(pdf) == []


def test_the_draft_preview_is_tagged(demo_agreement):
    tags = assert_accessible(render_agreement_pdf(demo_agreement, draft=True))
    assert [kind for kind, _ in tags].count("H1") == 1


def test_the_draft_watermark_is_seen_but_not_read(demo_agreement):
    draft = render_agreement_pdf(demo_agreement, draft=True)

    # Printed on every page (test_pdf), but a page background, which is an artifact: a
    # screen reader follows the same structure as in the final text, and hears "Entwurf"
    # once, in the title it announces (DisplayDocTitle).
    assert structure(draft) == structure(render_agreement_pdf(demo_agreement))
    assert untagged_content(draft) == []
    assert "Title:           Entwurf: Leistungsvereinbarung (SLA)" in poppler("pdfinfo", draft)


def test_the_goals_report_is_tagged_and_its_charts_are_described():
    agreement, _ = make_signed_goals_agreement()
    q1 = agreement_periods(agreement)[0]
    PeriodActuals.objects.create(
        agreement=agreement,
        period_start=q1.start,
        period_end=q1.end,
        sqls_handed_over=52,
        leads_in_time=50,
    )
    report = goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))

    tags = assert_accessible(render_goals_pdf(report, generated_at=timezone.now()))

    assert {"H1", "H2", "Table", "TH", "TD"} <= {kind for kind, _ in tags}
    sql_chart, funnel_chart = (alt for kind, alt in tags if kind == "Figure")
    assert sql_chart.startswith("Balkendiagramm: Erreichung des SQL-Ziels je Periode")
    assert "Q1 2026 94,5\u00a0%" in sql_chart
    assert funnel_chart.startswith("Balkendiagramm: Funnel-Ist in Prozent des anteiligen Plans")


def test_names_are_never_hyphenated_the_german_text_around_them_is(demo_agreement):
    # The SLA's stylesheet and the document's own markup for inserted values, in a column
    # so narrow that every long word reaches its end.
    demo_agreement.organisation.name = "Kellerhalsmeyer Hubspotgesellschaft AG"
    demo_agreement.organisation.save()
    firma = SlaDocument(demo_agreement)["firma"]
    html = (
        '<!DOCTYPE html><html lang="de-CH"><head><meta charset="utf-8"><title>Test</title>'
        f'<link rel="stylesheet" href="{static("css/print.css")}"></head><body>'
        '<article class="sla-document" lang="de-CH" style="width: 22mm">'
        f"<p>Die Geschäftsleitungsmitglieder der {firma} überprüfen die Zielerreichung "
        f"der {firma}.</p></article></body></html>"
    )

    # -raw keeps the hyphens at the line ends where the layout put them.
    text = poppler("pdftotext", write_accessible_pdf(html, fetcher=StaticFilesFetcher()), "-raw")

    assert re.search(r"Geschäfts\w*-\n", text), "German words are still hyphenated"
    assert text.count("Kellerhalsmeyer") == 2 and text.count("Hubspotgesellschaft") == 2


@pytest.mark.usefixtures("seal_settings")
def test_the_seal_validates_over_the_tagged_pdf(demo_agreement):
    sealed = seal_pdf(render_signed(demo_agreement))

    assert "Signature is Valid." in pdfsig(sealed)
    assert "Tagged:          yes" in poppler("pdfinfo", sealed)
    reader = PdfFileReader(BytesIO(sealed))
    assert 'pdfuaid:part="1"' in reader.root["/Metadata"].data.decode()
    # The seal's widget is untagged, which PDF/UA allows only outside the page (PDF/A
    # forbids the other way, the hidden flag); printable, as PDF/A wants.
    (seal_field,) = (f.get_object() for f in reader.root["/AcroForm"]["/Fields"])
    assert seal_field["/FT"] == "/Sig"
    *_, right, top = (float(value) for value in seal_field["/Rect"])  # x1 y1 x2 y2
    assert right < 0 and top < 0, seal_field["/Rect"]
    assert seal_field["/F"] & 4 and not seal_field["/F"] & 2  # Print, not Hidden
