"""Validators for values that end up in places with rules of their own.

An organisation's name goes into every mail's subject line ("Unterzeichnet: SLA Muster
AG ..."), where a line break is a header injection: Django refuses to send such a mail,
so every mail of that organisation would fail. The name is refused when it is typed.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def single_line(value: str) -> None:
    """Refuse line breaks and other control characters (a tab, NUL, ...)."""
    if any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in value):
        raise ValidationError(
            _("Bitte ohne Zeilenumbrüche oder Steuerzeichen eingeben (eine Zeile)."),
            code="single_line",
        )
