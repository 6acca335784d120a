"""The funnel of the appendix, drawn as an SVG by our own code.

Six trapezoid bands narrow from ATTRACT Visits down to CLOSE Customers. The shape is
fixed, as in the template's sample, and does not follow the figures: a funnel drawn to
scale would be a hairline below 34’000 Visits, and a stage larger than the one before it
(which happens: more MQL than Target Accounts) could not be drawn as a funnel at all.
The figures and the conversion rates are printed in and beside the bands.

The same SVG appears in the browser and, through WeasyPrint, in the PDF; every text is
escaped, and text that would not fit its place is set smaller rather than overflowing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .document import FunnelRow

WIDTH = 720
HEADER = 30  # the column titles above the bands
BAND = 58  # height of one band
GAP = 4  # white space between two bands
TOP_WIDTH = 330.0  # the funnel's width at its top and at its bottom
BOTTOM_WIDTH = 130.0
CENTRE = 395.0
LABEL_RIGHT = 212.0  # labels end here, left of the widest band
RATE_LEFT = 590.0  # rates start here, right of the widest band
PADDING = 10.0

# The width of a character as a share of the font size. Source Sans 3 averages about
# 0.5 (digits 0.5, bold 0.53); 0.6 leaves room for a wider fallback font in browsers.
CHAR_WIDTH = 0.6

FONT_FAMILY = "'Source Sans 3', 'Source Sans Pro', system-ui, sans-serif"
# Light to darker blue from top to bottom: the text stays dark and readable in print.
FILLS = ("#e3eef9", "#d3e4f5", "#c3daf1", "#b3d0ed", "#a3c6e9", "#93bce5")


def funnel_svg(rows: Sequence[FunnelRow]) -> SafeString:
    """The appendix's funnel chart for ``SlaDocument.funnel`` as inline SVG markup."""
    count = max(len(rows), 1)
    height = HEADER + count * BAND + (count - 1) * GAP + 2
    parts = [
        _text("Stufe", LABEL_RIGHT, 16, 12, anchor="end", css="sla-funnel-head"),
        _text("Anzahl", CENTRE, 16, 12, anchor="middle", css="sla-funnel-head"),
        _text(
            "Conversion Rate",
            RATE_LEFT,
            16,
            12,
            anchor="start",
            css="sla-funnel-head",
            max_width=WIDTH - RATE_LEFT,
        ),
    ]
    for index, row in enumerate(rows):
        top = HEADER + index * (BAND + GAP)
        upper = _band_width(index * (BAND + GAP), count)
        lower = _band_width(index * (BAND + GAP) + BAND, count)
        parts.append(_band(top, upper, lower, FILLS[index % len(FILLS)]))
        middle = top + BAND / 2

        if row.phase:
            parts.append(
                _text(
                    row.phase,
                    LABEL_RIGHT,
                    middle - 5,
                    12,
                    weight=700,
                    anchor="end",
                    css="sla-funnel-phase",
                    max_width=LABEL_RIGHT,
                )
            )
            label_y = middle + 13
        else:
            label_y = middle + 5
        parts.append(
            _text(row.label, LABEL_RIGHT, label_y, 15, anchor="end", max_width=LABEL_RIGHT)
        )

        # The band is narrowest at its bottom: the figure must fit there.
        figure = row.figure.plain
        parts.append(
            _text(
                figure,
                CENTRE,
                middle + 7,
                20,
                weight=700,
                anchor="middle",
                css="sla-funnel-missing" if row.figure.missing else "sla-funnel-number",
                fill="#8a6d00" if row.figure.missing else None,
                max_width=lower - 2 * PADDING,
            )
        )

        if row.rate_from_previous is not None:
            # Between this band and the one above it, with an arrow pointing down.
            y = top - GAP / 2
            parts.append(_arrow(RATE_LEFT + 5, y))
            parts.append(
                _text(
                    row.rate_from_previous,
                    RATE_LEFT + 16,
                    y + 5,
                    14,
                    anchor="start",
                    css="sla-funnel-rate",
                    max_width=WIDTH - RATE_LEFT - 16,
                )
            )

    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="sla-funnel-chart" '
        'viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'font-family="{}" fill="#1b2733"><title>{}</title>{}</svg>',
        WIDTH,
        _number(height),
        WIDTH,
        _number(height),
        FONT_FAMILY,
        funnel_summary(rows),
        mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html
    )


def funnel_summary(rows: Sequence[FunnelRow]) -> str:
    """The chart in one sentence: its text alternative for screen readers.

    Browsers read the SVG's ``<title>`` as the image's name, and WeasyPrint writes it as
    the ``/Alt`` of the PDF's figure. "Funnel-Diagramm: Visits 34’000, Contacts 1’200
    (Conversion Rate 3,5 %), …; die Zahlen stehen auch in der Tabelle."
    """
    stages = []
    for row in rows:
        stage = f"{row.label} {row.figure.plain}"
        if row.rate_from_previous:
            stage += f" (Conversion Rate {row.rate_from_previous})"
        stages.append(stage)
    return f"Funnel-Diagramm: {', '.join(stages)}; die Zahlen stehen auch in der Tabelle."


def _band_width(y: float, count: int) -> float:
    """The funnel's width ``y`` units below its top edge, narrowing linearly."""
    total = count * BAND + (count - 1) * GAP
    return TOP_WIDTH - (TOP_WIDTH - BOTTOM_WIDTH) * y / total


def _band(top: float, upper: float, lower: float, fill: str) -> SafeString:
    points = (
        (CENTRE - upper / 2, top),
        (CENTRE + upper / 2, top),
        (CENTRE + lower / 2, top + BAND),
        (CENTRE - lower / 2, top + BAND),
    )
    return format_html(
        '<polygon points="{}" fill="{}" stroke="#6f8fb0" stroke-width="1"/>',
        " ".join(f"{_number(x)},{_number(y)}" for x, y in points),
        fill,
    )


def _arrow(x: float, y: float) -> SafeString:
    return format_html(
        '<path d="M {} {} v 10 m -4 -4 l 4 4 l 4 -4" fill="none" stroke="#6f8fb0" '
        'stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/>',
        _number(x),
        _number(y - 6),
    )


def _text(
    value: str,
    x: float,
    y: float,
    size: float,
    *,
    weight: int = 400,
    anchor: str,
    css: str = "",
    fill: str | None = None,
    max_width: float | None = None,
) -> SafeString:
    """One escaped line of text, set smaller when it would be wider than ``max_width``."""
    if max_width is not None and value:
        size = min(size, max_width / (len(value) * CHAR_WIDTH))
    return format_html(
        '<text x="{}" y="{}" font-size="{}" font-weight="{}" text-anchor="{}"{}{}>{}</text>',
        _number(x),
        _number(y),
        _number(size),
        weight,
        anchor,
        format_html(' class="{}"', css) if css else "",
        format_html(' fill="{}"', fill) if fill else "",
        value,
    )


def _number(value: float) -> str:
    """A coordinate with at most two decimals, no exponent: 12.5 -> "12.5"."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
