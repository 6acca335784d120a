"""What an author's wizard page showed: a short fingerprint per value.

A step's form carries the fingerprints of the values it was loaded with. When it is
saved, ``agreements.wizard`` compares three versions of each field: the one loaded
(its fingerprint), the one stored now and the one posted. Only a field that both the
author and someone else changed since the page was loaded is a conflict; everything
else is saved. Fingerprints rather than the values: the page does not carry every text
twice, and nothing the author did not type travels back as if they had.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal

from django.db import models

from .models import Agreement

# The pseudo-field of the further definitions (section 5): one list, compared as a whole.
FURTHER_DEFINITIONS = "further_definitions"


def canonical(field: models.Field, value):
    """A field's value in a form that compares equal across the form and the database."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None and isinstance(field, models.CharField | models.TextField):
        return ""
    return value


def fingerprint(value) -> str:
    """Sixteen hex digits of the SHA-256 of the canonical value: enough to tell a change."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_value(agreement: Agreement, name: str):
    """The canonical value of ``name`` on ``agreement`` (a foreign key as its id)."""
    field = Agreement._meta.get_field(name)
    return canonical(field, getattr(agreement, field.attname))


def definitions_value(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The further definitions as compared: their terms and texts, in order."""
    return [[term, text] for term, text in pairs]


def agreement_fingerprints(agreement: Agreement, names: Iterable[str]) -> dict[str, str]:
    """{name: fingerprint} of the agreement's stored values, further definitions included."""
    prints = {}
    for name in names:
        if name == FURTHER_DEFINITIONS:
            stored = agreement.further_definitions.all() if agreement.pk else []
            prints[name] = fingerprint(definitions_value((d.term, d.text) for d in stored))
        else:
            prints[name] = fingerprint(stored_value(agreement, name))
    return prints


def parse_fingerprints(text: str | None) -> dict[str, str]:
    """The fingerprints a form posted back; {} when missing or not ours (nothing known)."""
    try:
        prints = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(prints, dict):
        return {}
    return {str(k): str(v) for k, v in prints.items() if isinstance(v, str)}
