"""Numbers as our users write and read them: one reader and one formatter per kind.

Every figure the portal prints goes through ``format_integer`` (34’000), ``format_amount``
(1’234.50, francs and centimes) or ``format_percent`` (45,6 %, a no-break space before the
sign); every figure typed into a form or read from a CSV file goes through
``parse_integer`` or ``parse_amount``. The wizard, the Ist-Werte, the CSV import, the
goals dashboard, the document and the PDFs all use these, so "34.000" means the same
everywhere and what is printed reads back as the same number.

What the reader accepts, for 34’000: 34’000, 34'000, 34 000 (also with a no-break or thin
space), 34.000, 34,000 and 34000. Apostrophes and spaces always separate thousands. A lone
"." or "," followed by exactly three digits is a thousands separator too (no figure here has
three decimals), otherwise the decimal mark; with both, the last one is the decimal mark.
Thousands come in groups of three, or the text is refused: "34’00" is a typo, not 3’400.
A whole number with a fraction ("34,5", "3.4") is refused, never rounded or cut; an amount
keeps at most two decimals. Each refusal is a German sentence that quotes what was typed.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

from django.utils.translation import gettext as _

NBSP = "\u00a0"
THOUSANDS = "’"  # the typographic apostrophe, as Swiss style guides write it

# Longer input is refused before any conversion: int() of a few thousand digits costs
# noticeable CPU, and no figure of an SLA has more than 20 digits.
MAX_INPUT_CHARS = 100

# Apostrophes (typographic, typewriter, modifier letter, left quote) and spaces (plain,
# no-break, narrow no-break, thin): what spreadsheets and keyboards put between thousands.
GROUP_MARKS = "’'ʼ‘\u00a0\u202f\u2009 "
_GROUP_MARK = re.compile(f"[{GROUP_MARKS}]")
_SHAPE = re.compile(r"[0-9_.,]+")
_GROUPS = re.compile(r"[1-9][0-9]{0,2}(?:_[0-9]{3})+")  # with "_" for whichever mark groups
_MINUS = ("-", "−")  # hyphen-minus and the minus sign U+2212
CENT = Decimal("0.01")
# Wide enough for every input the reader accepts: Decimal's default 28 digits would round
# the 29th digit of a long figure, and quantize() would fail outright beyond them.
EXACT = Context(prec=MAX_INPUT_CHARS + 3)


class NumberInputError(ValueError):
    """Typed text that is not the number asked for; ``message`` says why, in German."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def format_integer(value: int) -> str:
    """34000 -> "34’000"."""
    return f"{value:,}".replace(",", THOUSANDS)


def format_amount(value: Decimal) -> str:
    """Decimal("1234.5") -> "1’234.50": francs with the decimal point, as on a Swiss invoice."""
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)
    whole, _point, cents = f"{rounded:,.2f}".partition(".")
    return f"{whole.replace(',', THOUSANDS)}.{cents}"


# What a figure not reported yet, or a share that cannot be computed, shows.
MISSING = "–"


def format_figure(value: int | Decimal | None) -> str:
    """A reported figure: a count (34’000) or an amount in francs (1’234.50); "–" while none."""
    if value is None:
        return MISSING
    if isinstance(value, Decimal):
        return format_amount(value)
    return format_integer(value)


def format_percent(value: Decimal | int | None, *, places: int = 1) -> str:
    """Decimal("45.63") -> "45,6 %": a decimal comma, a no-break space before the sign.

    "–" for None: a share that cannot be computed (nothing reported, a target of 0).
    """
    if value is None:
        return MISSING
    step = Decimal(1).scaleb(-places)
    rounded = Decimal(value).quantize(step, rounding=ROUND_HALF_UP, context=EXACT)
    whole, _point, fraction = f"{rounded:,.{places}f}".partition(".")
    text = whole.replace(",", THOUSANDS) + ("," + fraction if places else "")
    return f"{text}{NBSP}%"


def format_rate(value: Decimal | int) -> str:
    """A conversion rate between two funnel stages, for pages, charts and PDFs alike.

    Up to 100 % it is the share that reaches the next stage: "45,6 %". Above, the next
    stage is larger (more leads than target accounts), and "120,0 %" under an arrow
    pointing down reads as an error: a ratio says it plainly, Decimal("120") -> "1,2 : 1",
    Decimal("126.7") -> "1,27 : 1".
    """
    if value <= 100:
        return format_percent(value)
    ratio = (Decimal(value) / 100).quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)
    whole, _point, fraction = f"{ratio:,.2f}".partition(".")
    fraction = fraction.rstrip("0")
    text = whole.replace(",", THOUSANDS) + ("," + fraction if fraction else "")
    return f"{text}{NBSP}:{NBSP}1"


def parse_integer(text: str) -> int:
    """A whole number as typed; raises ``NumberInputError`` for anything else."""
    number = _read(text, amount=False)
    if number != number.to_integral_value(rounding=ROUND_DOWN):
        raise NumberInputError(
            _(
                "„%(text)s“ ist keine ganze Zahl. Bitte ohne Nachkommastellen eingeben, "
                "z. B. %(example)s."
            )
            % {"text": text.strip(), "example": format_integer(34000)}
        )
    return int(number)


def parse_amount(text: str) -> Decimal:
    """An amount in francs, at most two decimals ("CHF" before or after is allowed)."""
    number = _read(text, amount=True)
    if number != number.quantize(CENT, context=EXACT):
        raise NumberInputError(
            _("„%(text)s“: höchstens zwei Nachkommastellen (Rappen).") % {"text": text.strip()}
        )
    return number.quantize(CENT, context=EXACT)


def _read(text: str, *, amount: bool) -> Decimal:
    shown = text.strip()
    if len(shown) > MAX_INPUT_CHARS:
        raise NumberInputError(
            _("Die Eingabe ist zu lang für eine Zahl (höchstens %(count)s Zeichen).")
            % {"count": MAX_INPUT_CHARS}
        )
    value = shown
    if amount:
        value = re.sub(r"^(?:CHF|Fr\.)\s*|\s*(?:CHF|Fr\.)$", "", value, flags=re.IGNORECASE)
    negative = value.startswith(_MINUS)
    if negative:
        value = value[1:].lstrip()
    if value.endswith("%"):
        raise NumberInputError(
            _("„%(text)s“ ist ein Prozentwert; hier ist %(kind)s gefragt, z. B. %(example)s.")
            % {"text": shown, **_kind(amount)}
        )
    value = _GROUP_MARK.sub("_", value)
    if not _SHAPE.fullmatch(value) or not value[0].isdigit() or not value[-1].isdigit():
        raise _not_a_number(shown, amount)
    whole, fraction = _split_decimal(value, shown, amount)
    if not whole.isdigit() and not _GROUPS.fullmatch(whole):
        raise NumberInputError(
            _(
                "„%(text)s“ ist keine Zahl: Tausender werden in Dreiergruppen getrennt, "
                "z. B. %(example)s."
            )
            % {"text": shown, "example": _kind(amount)["example"]}
        )
    sign = "-" if negative else ""
    return Decimal(sign + whole.replace("_", "") + "." + (fraction or "0"))


def _split_decimal(value: str, shown: str, amount: bool) -> tuple[str, str]:
    """The whole part (with "_" between thousands) and the digits after the decimal mark."""
    marks = [c for c in value if c in ".,"]
    if not marks:
        return value, ""
    if "_" in value or len(set(marks)) == 2:
        # Apostrophes or spaces group, or both "." and "," are there: the last mark is the
        # decimal mark and occurs once; the other one groups thousands.
        decimal_mark = marks[-1]
        if marks.count(decimal_mark) > 1:
            raise _not_a_number(shown, amount)
        whole, _mark, fraction = value.rpartition(decimal_mark)
        return whole.replace("," if decimal_mark == "." else ".", "_"), fraction
    grouped = value.replace(marks[0], "_")
    if len(marks) > 1 or _GROUPS.fullmatch(grouped):
        return grouped, ""  # 1.234.567, or 34.000: thousands
    whole, _mark, fraction = value.partition(marks[0])
    if len(fraction) == 3:
        # "1234.000" or "0,500": thousands in the wrong place, or three decimals? Asking
        # costs a second; guessing wrong would store a figure a thousand times off.
        raise NumberInputError(
            _(
                "„%(text)s“ ist nicht eindeutig. Bitte Tausender in Dreiergruppen trennen "
                "(z. B. %(example)s) oder ohne Trennzeichen schreiben."
            )
            % {"text": shown, "example": format_integer(1234000)}
        )
    return whole, fraction


def _kind(amount: bool) -> dict:
    if amount:
        return {"kind": _("ein Betrag"), "example": format_amount(Decimal("1234.50"))}
    return {"kind": _("eine Anzahl"), "example": format_integer(34000)}


def _not_a_number(shown: str, amount: bool) -> NumberInputError:
    if amount:
        message = _("„%(text)s“ ist keine Zahl. Bitte einen Betrag eingeben, z. B. %(example)s.")
    else:
        message = _("„%(text)s“ ist keine Zahl. Bitte eine ganze Zahl eingeben, z. B. %(example)s.")
    return NumberInputError(message % {"text": shown, "example": _kind(amount)["example"]})
