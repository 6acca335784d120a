"""The goals dashboard's charts, drawn as SVG by our own code (issue 8).

Like the funnel of the appendix (``agreements.funnel``): every text escaped through
``format_html``, no script, a ``viewBox`` so that the chart scales to a phone's width, and
the same markup in the browser and in the "Zielerreichung" PDF. The numbers are also in
the tables beside the charts; the charts only make them quick to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .attainment import LIGHT_GREEN_FROM, LIGHT_YELLOW_FROM, FunnelComparison, PeriodRow
from .funnel import FONT_FAMILY, _number, _text
from .numbers import format_percent

# Fill per status light; dark enough for the white-on-bar text, distinct in grey print.
COLOURS = {"green": "#2e7d32", "yellow": "#b8860b", "red": "#c62828", "grey": "#9aa5b1"}

WIDTH = 360
LEFT = 40  # room for the axis labels
TOP = 16
PLOT_HEIGHT = 150
BOTTOM = 34  # room for the period labels
AXIS_MAX = Decimal(150)  # bars above 150 % are cut off and marked with their value


def sql_attainment_svg(rows: Sequence[PeriodRow]) -> SafeString:
    """Bars of the SQL goal's attainment per period, with the 80 % and 100 % lines."""
    count = max(len(rows), 1)
    slot = (WIDTH - LEFT - 8) / count
    bar = min(slot * 0.6, 48)
    height = TOP + PLOT_HEIGHT + BOTTOM
    parts = []
    for mark in (Decimal(0), LIGHT_YELLOW_FROM, LIGHT_GREEN_FROM, AXIS_MAX):
        y = _y(mark)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"{}/>',
                LEFT,
                _number(y),
                WIDTH - 4,
                _number(y),
                "#5b6873" if mark in (0, LIGHT_GREEN_FROM) else "#c8d0d8",
                mark_safe(' stroke-dasharray="4 3"') if mark == LIGHT_YELLOW_FROM else "",
            )
        )
        parts.append(
            _text(format_percent(mark, places=0), LEFT - 4, y + 4, 10, anchor="end", fill="#5b6873")
        )
    for index, row in enumerate(rows):
        centre = LEFT + slot * index + slot / 2
        percent = row.sql_attainment
        if percent is not None:
            shown = min(percent, AXIS_MAX)
            top = _y(shown)
            parts.append(
                format_html(
                    '<rect class="goal-bar goal-bar-{}" x="{}" y="{}" width="{}" height="{}" '
                    'fill="{}"><title>{}: {}</title></rect>',
                    row.sql_light.colour,
                    _number(centre - bar / 2),
                    _number(top),
                    _number(bar),
                    _number(_y(Decimal(0)) - top),
                    COLOURS[row.sql_light.colour],
                    row.period.label,
                    row.sql_attainment_text,
                )
            )
            parts.append(
                _text(
                    row.sql_attainment_text,
                    centre,
                    _label_baseline(top),
                    10,
                    anchor="middle",
                    max_width=slot,
                )
            )
        else:
            parts.append(
                _text("–", centre, _y(Decimal(0)) - 4, 11, anchor="middle", fill="#5b6873")
            )
        parts.append(
            _text(
                row.period.label,
                centre,
                TOP + PLOT_HEIGHT + 16,
                11,
                anchor="middle",
                max_width=slot,
            )
        )
    periods = ", ".join(f"{row.period.label} {row.sql_attainment_text}" for row in rows)
    return _svg(
        "goal-chart goal-chart-sql",
        height,
        f"Balkendiagramm: Erreichung des SQL-Ziels je Periode: {periods}; "
        "die Zahlen stehen in der Tabelle.",
        parts,
    )


def funnel_attainment_svg(funnel: Sequence[FunnelComparison]) -> SafeString:
    """Horizontal bars: each stage's reported figure as a share of the plan to date."""
    label_width = 110
    row_height = 26
    height = TOP + row_height * len(funnel) + 20
    plot = WIDTH - label_width - 50
    parts = []
    for mark in (Decimal(0), LIGHT_GREEN_FROM):
        x = label_width + plot * float(mark / AXIS_MAX)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#5b6873" stroke-width="1"/>',
                _number(x),
                TOP - 6,
                _number(x),
                _number(height - 16),
            )
        )
        parts.append(
            _text(
                format_percent(mark, places=0), x, height - 4, 10, anchor="middle", fill="#5b6873"
            )
        )
    for index, stage in enumerate(funnel):
        y = TOP + index * row_height
        parts.append(
            _text(stage.label, label_width - 6, y + 13, 11, anchor="end", max_width=label_width)
        )
        percent = stage.attainment
        if percent is None:
            parts.append(_text("–", label_width + 4, y + 13, 11, anchor="start", fill="#5b6873"))
            continue
        length = plot * float(min(percent, AXIS_MAX) / AXIS_MAX)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                label_width,
                _number(y + 2),
                _number(max(length, 1)),
                row_height - 8,
                COLOURS[stage.light.colour],
            )
        )
        parts.append(
            _text(
                stage.attainment_text,
                label_width + length + 4,
                y + 13,
                10,
                anchor="start",
            )
        )
    stages = ", ".join(f"{stage.label} {stage.attainment_text}" for stage in funnel)
    return _svg(
        "goal-chart goal-chart-funnel",
        height,
        f"Balkendiagramm: Funnel-Ist in Prozent des anteiligen Plans: {stages}; "
        "die Zahlen stehen in der Tabelle.",
        parts,
    )


LABEL_SIZE = 10  # the bar labels' font size, in the viewBox's units


def _label_baseline(bar_top: float) -> float:
    """Where a bar's value label stands: just above the bar, but never across the 80 % or
    100 % line. A bar ending a little below a line (94,5 %) would put its label right on
    it; the label then moves up to stand on the line instead."""
    baseline = bar_top - 3
    for mark in (LIGHT_YELLOW_FROM, LIGHT_GREEN_FROM):
        line = _y(mark)
        # The label's glyphs reach from about one size above the baseline to 2 below it.
        if baseline - LABEL_SIZE - 1 <= line <= baseline + 2:
            baseline = line - 4
    return baseline


def _y(percent: Decimal) -> float:
    return TOP + PLOT_HEIGHT * (1 - float(min(percent, AXIS_MAX) / AXIS_MAX))


def _svg(css: str, height: float, label: str, parts) -> SafeString:
    """The chart; ``label``, its text alternative, is the ``<title>``: the browser's name
    for the image and, through WeasyPrint, the ``/Alt`` of the PDF's figure."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" '
        'width="100%" role="img" font-family="{}" fill="#1b2733"><title>{}</title>{}</svg>',
        css,
        WIDTH,
        _number(height),
        FONT_FAMILY,
        label,
        mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html
    )
