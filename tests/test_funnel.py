"""The appendix's funnel chart: valid SVG, the figures in Swiss format, nothing overflows.

Text widths are measured with the real metrics of the PDF's font (Source Sans 3), so a
figure that fits here fits in the PDF.
"""

import math
import re
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from django.contrib.staticfiles import finders
from fontTools.ttLib import TTFont

from agreements.document import SlaDocument, Slot
from agreements.enums import FunnelStage
from agreements.funnel import funnel_svg
from agreements.models import Agreement, Organisation

SVG = "{http://www.w3.org/2000/svg}"


def funnel_rows(**figures):
    """The rows of an unsaved agreement with the given figures (stage value -> figure)."""
    agreement = Agreement(
        organisation=Organisation(name="Test AG"),
        **{FunnelStage(stage).field_name: figure for stage, figure in figures.items()},
    )
    return SlaDocument(agreement).funnel


DEMO = {"visits": 34_000, "target_accounts": 450, "mql": 570, "prospects": 290,
        "sql": 260, "customers": 200}  # fmt: skip
EXTREMES = {
    "demo": DEMO,
    "zeros": dict.fromkeys(DEMO, 0),
    "zero_then_figures": {**DEMO, "visits": 0, "target_accounts": 0},
    "growing": {
        "visits": 1,
        "target_accounts": 9_999_999,
        "mql": 10,
        "prospects": 2_000_000,
        "sql": 2_000_001,
        "customers": 3,
    },
    "seven_digits": dict.fromkeys(DEMO, 8_888_888),
    "largest_possible": dict.fromkeys(DEMO, 2_147_483_647),
    "missing": {"visits": 34_000, "mql": 570, "customers": None},
}


@cache
def font(weight: int) -> TTFont:
    name = "SourceSans3-Bold.ttf" if weight >= 700 else "SourceSans3-Regular.ttf"
    return TTFont(finders.find(f"fonts/source-sans-3/{name}"))


def text_width(text: str, size: float, weight: int) -> float:
    ttfont = font(weight)
    cmap, metrics = ttfont.getBestCmap(), ttfont["hmtx"].metrics
    units = sum(metrics[cmap[ord(char)]][0] for char in text)
    return units * size / ttfont["head"].unitsPerEm


def text_extent(element) -> tuple[float, float]:
    """Left and right edge of a <text> element, from its anchor and measured width."""
    x, size = float(element.get("x")), float(element.get("font-size"))
    width = text_width(element.text or "", size, int(element.get("font-weight")))
    anchor = element.get("text-anchor")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, left + width


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is XML


def polygon_points(polygon) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polygon.get("points").split()]


def test_demo_funnel_shows_every_stage_figure_and_rate():
    root = parse(funnel_svg(funnel_rows(**DEMO)))
    texts = [element.text for element in root.iter(f"{SVG}text")]
    for phase in ("ATTRACT", "IDENTIFY", "CONVERT", "CONNECT", "CLOSE"):
        assert phase in texts
    for label in ("Visits", "Target Accounts", "Marketing Qualified Leads", "Prospects",
                  "Sales Qualified Leads", "Customers"):  # fmt: skip
        assert label in texts
    for figure in ("34’000", "450", "570", "290", "260", "200"):
        assert figure in texts
    # The conversion rate between consecutive stages, Swiss style: 450 / 34’000 = 1,3 %.
    for rate in ("1,3\u00a0%", "1,27\u00a0:\u00a01", "50,9\u00a0%", "89,7\u00a0%", "76,9\u00a0%"):
        assert rate in texts
    assert len(root.findall(f"{SVG}polygon")) == len(FunnelStage)


def test_bands_narrow_from_top_to_bottom():
    root = parse(funnel_svg(funnel_rows(**DEMO)))
    widths = []
    for polygon in root.findall(f"{SVG}polygon"):
        (x1, _), (x2, _), (x3, _), (x4, _) = polygon_points(polygon)
        widths += [x2 - x1, x3 - x4]
    assert widths == sorted(widths, reverse=True)


@pytest.mark.parametrize("figures", EXTREMES.values(), ids=EXTREMES.keys())
def test_extreme_figures_stay_inside_the_chart(figures):
    svg = funnel_svg(funnel_rows(**figures))
    root = parse(svg)  # well-formed XML
    assert not re.search(r"nan|inf", svg, re.IGNORECASE)
    _, _, width, height = map(float, root.get("viewBox").split())

    numbers = [float(n) for n in re.findall(r'\s(?:x|y|font-size)="([^"]+)"', svg)]
    assert all(math.isfinite(n) for n in numbers)
    assert all(size > 5 for size in map(float, re.findall(r'font-size="([^"]+)"', svg)))

    polygons = root.findall(f"{SVG}polygon")
    for polygon in polygons:
        for x, y in polygon_points(polygon):
            assert 0 <= x <= width and 0 <= y <= height
    for element in root.iter(f"{SVG}text"):
        left, right = text_extent(element)
        assert left >= 0 and right <= width, element.text
        assert 0 < float(element.get("y")) <= height

    # Each figure fits inside its band, even at the band's narrow bottom edge.
    figures_drawn = [
        element for element in root.iter(f"{SVG}text")
        if element.get("class") in {"sla-funnel-number", "sla-funnel-missing"}
    ]  # fmt: skip
    assert len(figures_drawn) == len(polygons) == len(FunnelStage)
    for element, polygon in zip(figures_drawn, polygons, strict=True):
        (_, _), (_, _), (right_edge, _), (left_edge, _) = polygon_points(polygon)
        left, right = text_extent(element)
        assert left_edge < left and right < right_edge, element.text


def test_seven_digit_figures_are_printed_in_full_in_swiss_format():
    texts = [
        e.text for e in parse(funnel_svg(funnel_rows(**EXTREMES["growing"]))).iter(f"{SVG}text")
    ]
    assert "9’999’999" in texts
    assert "2’000’001" in texts
    # A stage larger than the one before: the rate says so, the funnel keeps its shape.
    assert "9’999’999\u00a0:\u00a01" in texts  # a ratio above 100 %


def test_missing_figures_and_undefined_rates_are_marked_not_invented():
    root = parse(funnel_svg(funnel_rows(**EXTREMES["missing"])))
    missing = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "sla-funnel-missing"]
    assert missing == ["……"] * 4  # Target Accounts, Prospects, SQL, Customers
    rates = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "sla-funnel-rate"]
    assert rates == ["–"] * 5  # no rate can be computed from a missing figure


def test_zero_figures_give_no_rate_but_no_error():
    root = parse(funnel_svg(funnel_rows(**EXTREMES["zeros"])))
    rates = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "sla-funnel-rate"]
    assert rates == ["–"] * 5
    assert [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "sla-funnel-number"] == [
        "0"
    ] * 6


def test_all_text_is_escaped():
    rows = funnel_rows(**DEMO)
    hostile = '<img src="file:///etc/passwd"> & </text><script>'
    rows[0] = type(rows[0])(rows[0].stage, Slot("……", "Visits", "funnel", hostile), None)
    svg = funnel_svg(rows)
    root = parse(svg)
    assert hostile in [element.text for element in root.iter(f"{SVG}text")]
    assert not root.findall(f".//{SVG}script") and not root.findall(".//img")
    assert "<img" not in svg and "<script" not in svg
