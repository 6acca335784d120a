"""What every form of the portal shares: Swiss numbers and dates, clean text.

Numbers as our users type them (34'000, 94,5), dates as the SLA writes them (31.12.2027),
and no directional controls in any text that is stored and hashed.
"""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .. import dates
from ..numbers import (
    NumberInputError,
    format_amount,
    format_integer,
    parse_amount,
    parse_integer,
)

# The largest figures the database columns hold (PositiveIntegerField, DecimalField(14, 2)).
FIGURE_MAX = 2_000_000_000
AMOUNT_MAX = Decimal("999999999999.99")


class SwissNumberField(forms.Field):
    """A number as our users type it (``agreements.numbers``), shown back in Swiss form.

    A whole number by default, an amount in francs with ``amount=True``. A text input,
    not type=number: that one refuses the apostrophe our users type, and a browser would
    quietly drop what it cannot read. Empty means "not given" (None).
    """

    widget = forms.TextInput

    def __init__(self, *, amount: bool = False, min_value=0, max_value=None, **kwargs):
        self.amount, self.min_value, self.max_value = amount, min_value, max_value
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal" if self.amount else "numeric", "autocomplete": "off"})
        return attrs

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format_amount(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return format_amount(Decimal(value)) if self.amount else format_integer(value)
        return value

    def to_python(self, value):
        if value is None or not str(value).strip():
            return None
        if isinstance(value, int | Decimal):
            return value
        try:
            return parse_amount(value) if self.amount else parse_integer(value)
        except NumberInputError as error:
            raise ValidationError(error.message, code="invalid") from None

    def validate(self, value):
        super().validate(value)
        shown = self.prepare_value
        if value is not None and self.min_value is not None and value < self.min_value:
            raise ValidationError(
                _("Bitte eine Zahl ab %(limit)s eingeben.") % {"limit": shown(self.min_value)},
                code="min_value",
            )
        if value is not None and self.max_value is not None and value > self.max_value:
            raise ValidationError(
                _("Bitte eine Zahl bis %(limit)s eingeben.") % {"limit": shown(self.max_value)},
                code="max_value",
            )


# The SLA's dates are Swiss, whatever the interface language: 31.12.2027. A text input
# rather than type=date, whose format follows the browser's locale (mm/dd/yyyy on an
# English browser), not the document's.
DATE_INPUT_FORMATS = list(dates.DATE_INPUT_FORMATS)


class DateInput(forms.DateInput):
    def __init__(self, attrs=None):
        attrs = {"placeholder": _("TT.MM.JJJJ"), "inputmode": "numeric", **(attrs or {})}
        super().__init__(attrs, format="%d.%m.%Y")


# Directional overrides and isolates (U+202A–202E, U+2066–2069) make a text read
# differently from what is stored and hashed ("Rechnung\u202efdp.exe" shows as
# "Rechnungexe.pdf"): no place in an SLA between two German-speaking teams.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])

# The plausible years of an SLA and its framework: beyond them a typo, not a date.
FIRST_YEAR, LAST_YEAR = 2000, 2099


class SlaTextMixin:
    """Cleans what every SLA form shares: no bidi controls in text, dates in range."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                cleaned[name] = value.translate(BIDI_CONTROLS)
            elif isinstance(value, datetime.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
                self.add_error(
                    name,
                    _("Bitte ein Datum zwischen %(first)s und %(last)s eingeben.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
        return cleaned


# One label for "nothing chosen yet", in every select of the wizard.
EMPTY_CHOICE = _("– bitte wählen –")
