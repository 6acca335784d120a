"""Ist-Werte as CSV: the import from a CRM report and the export for Excel (issue 8).

Import. The first line names the columns (``COLUMNS``, in any order, upper or lower case;
spaces and hyphens count as underscores). ``periode`` is required: any day of the period
(its first or last day, as a CRM report prints it), as 31.12.2026, 31.12.26 or 2026-12-31.
Numbers are read as the forms read them (``agreements.numbers``): Swiss, German or
English, 34’000, 34'000, 34 000, 34.000, 34,000, 1’234.50, 1.234,50, 1,234.50; "CHF" is
ignored. The separator is ";" or "," (whichever the header line uses),
the encoding UTF-8 with or without BOM (Windows-1252 as Excel writes it is accepted too).

An empty cell leaves the stored figure as it is. Columns of the other role are ignored
and the preview names them: a CRM report often holds both teams' figures, and each team
imports its own. Every bad line is reported with its number, the column and what is
wrong; nothing is saved while any line is bad (``agreements.actuals.actuals_save`` writes
all lines in one transaction).

Export: semicolon-separated, UTF-8 with BOM (Excel opens it with umlauts intact), plain
numbers with a decimal point ("34000", "1234.50"), dates as 31.12.2026: that re-imports
unchanged and any spreadsheet reads it without guessing a locale.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core import signing
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from . import dates
from .actuals import (
    ACTUALS_FIELDS,
    AMOUNT_FIELDS,
    ActualsEntry,
    Period,
    agreement_periods,
)
from .models import Agreement, PeriodActuals
from .numbers import NumberInputError, format_figure, parse_amount, parse_integer
from .permissions import actuals_fields_for

# CSV column -> PeriodActuals field.
COLUMNS = {
    "sql_uebergeben": "sqls_handed_over",
    "leads_fristgerecht": "leads_in_time",
    "umsatz": "revenue",
    "umsatz_attribuiert": "attributed_revenue",
    "visits": "funnel_visits",
    "target_accounts": "funnel_target_accounts",
    "mql": "funnel_mql",
    "prospects": "funnel_prospects",
    "sql": "funnel_sql",
    "customers": "funnel_customers",
}
PERIOD_COLUMN = "periode"
# Written by the export for the reader, ignored by the import (the period's first day is enough).
INFORMATIVE_COLUMNS = frozenset({"periode_bis"})
COLUMN_OF_FIELD = {name: column for column, name in COLUMNS.items()}
# Also accepted in a header, for reports whose columns were named in German words.
COLUMN_ALIASES = {
    "sql_übergeben": "sql_uebergeben",
    "kunden": "customers",
    "datum": PERIOD_COLUMN,
    "periode_start": PERIOD_COLUMN,
    "periode_ab": PERIOD_COLUMN,
}
MAX_BYTES = 1_000_000  # a year of monthly figures is a few hundred bytes
MAX_LINES = 500


class CsvValueError(ValueError):
    """A cell that is not what its column needs; the message says what is wrong."""


def parse_figure(text: str, *, amount: bool) -> int | Decimal:
    """A figure of a report, read as the forms read it (``agreements.numbers``).

    ``amount`` allows two decimals (CHF); otherwise a whole number is required.
    """
    try:
        number = parse_amount(text) if amount else parse_integer(text)
    except NumberInputError as error:
        raise CsvValueError(error.message) from None
    if number < 0:
        raise CsvValueError(
            _("„%(text)s“: Die Zahl darf nicht negativ sein.") % {"text": text.strip()}
        )
    return number


def parse_date(text: str) -> datetime.date:
    """31.12.2026, 31.12.26, 1.1.2026 or 2026-12-31."""
    day = dates.parse_date(text)
    if day is None:
        raise CsvValueError(
            _("„%(text)s“ ist kein Datum (erwartet 31.12.2026 oder 2026-12-31).")
            % {"text": text.strip()}
        )
    return day


@dataclass
class CsvImport:
    """The outcome of reading a file: the entries to save, or the errors, never both."""

    entries: list[ActualsEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the applied ones, in COLUMNS' order

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.entries)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _column_name(header: str) -> str:
    name = re.sub(r"[\s\-]+", "_", header.strip().lower().lstrip("\ufeff"))
    return COLUMN_ALIASES.get(name, name)


def actuals_csv_parse(*, agreement: Agreement, data: bytes, role) -> CsvImport:
    """Read a CSV report of Ist-Werte for ``agreement`` as a member of ``role``.

    Checks every line against the agreement's periods, the column's format and the rules
    of ``PeriodActuals`` (combined with the figures already stored); saves nothing.
    """
    result = CsvImport()
    if len(data) > MAX_BYTES:
        result.errors.append(_("Die Datei ist zu gross (höchstens 1 MB)."))
        return result
    text = _decode(data)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        result.errors.append(_("Die Datei ist leer."))
        return result
    names = [_column_name(h) for h in header]
    if PERIOD_COLUMN not in names:
        result.errors.append(
            _("Zeile 1: Die Spalte „%(column)s“ fehlt.") % {"column": PERIOD_COLUMN}
        )
        return result
    known = {*COLUMNS, PERIOD_COLUMN, *INFORMATIVE_COLUMNS}
    unknown = [h for h, n in zip(header, names, strict=True) if n not in known]
    if unknown:
        result.errors.append(
            _("Zeile 1: Unbekannte Spalte(n): %(columns)s.")
            % {"columns": get_text_list([f"„{u}“" for u in unknown], _("und"))}
        )
        return result
    if len(set(names)) != len(names):
        result.errors.append(_("Zeile 1: Eine Spalte kommt doppelt vor."))
        return result
    own = set(actuals_fields_for(role))
    applied = {i: COLUMNS[n] for i, n in enumerate(names) if n in COLUMNS and COLUMNS[n] in own}
    result.ignored_columns = [n for n in names if n in COLUMNS and COLUMNS[n] not in own]
    result.columns = [c for c in COLUMNS if COLUMNS[c] in applied.values()]
    if not applied:
        result.errors.append(_("Zeile 1: Die Datei enthält keine Spalte, die Sie erfassen."))
        return result
    period_index = names.index(PERIOD_COLUMN)

    periods = agreement_periods(agreement)
    stored = {a.period_start: a for a in PeriodActuals.objects.filter(agreement=agreement)}
    seen: dict[datetime.date, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if line > MAX_LINES:
                result.errors.append(_("Die Datei hat zu viele Zeilen (höchstens 500)."))
                break
            if not any(cell.strip() for cell in row):
                continue
            entry = _parse_row(row, line, header, period_index, applied, periods, result.errors)
            if entry is None:
                continue
            if entry.period_start in seen:
                result.errors.append(
                    _("Zeile %(line)s: Die Periode steht schon in Zeile %(other)s.")
                    % {"line": line, "other": seen[entry.period_start]}
                )
                continue
            seen[entry.period_start] = line
            _check_rules(entry, stored.get(entry.period_start), result.errors)
            result.entries.append(entry)
    except csv.Error as error:
        result.errors.append(
            _("Zeile %(line)s: Die Zeile ist kein gültiges CSV (%(error)s).")
            % {"line": reader.line_num, "error": error}
        )
    if not result.entries and not result.errors:
        result.errors.append(_("Die Datei enthält keine Datenzeilen."))
    if result.errors:
        result.entries = []
    return result


def _parse_row(row, line, header, period_index, applied, periods: list[Period], errors):
    if len(row) != len(header):
        errors.append(
            _("Zeile %(line)s: %(found)s Felder statt %(expected)s.")
            % {"line": line, "found": len(row), "expected": len(header)}
        )
        return None
    ok = True
    period = None
    try:
        day = parse_date(row[period_index])
        period = next((p for p in periods if p.contains(day)), None)
        if period is None:
            errors.append(
                _(
                    "Zeile %(line)s, Spalte „periode“: %(date)s liegt in keiner Periode "
                    "der Vereinbarung."
                )
                % {"line": line, "date": day.strftime("%d.%m.%Y")}
            )
            ok = False
    except CsvValueError as error:
        errors.append(
            _("Zeile %(line)s, Spalte „periode“: %(error)s") % {"line": line, "error": error}
        )
        ok = False
    values = {}
    for index, name in applied.items():
        cell = row[index].strip()
        if not cell:
            continue
        try:
            values[name] = parse_figure(cell, amount=name in AMOUNT_FIELDS)
        except CsvValueError as error:
            errors.append(
                _("Zeile %(line)s, Spalte „%(column)s“: %(error)s")
                % {"line": line, "column": header[index].strip().lstrip("\ufeff"), "error": error}
            )
            ok = False
    if not ok:
        return None
    return ActualsEntry(period_start=period.start, values=values, line=line)


def _check_rules(entry: ActualsEntry, stored: PeriodActuals | None, errors) -> None:
    """The rule across the two roles' figures, with what is stored for the other role."""
    merged = {name: getattr(stored, name, None) for name in ACTUALS_FIELDS}
    merged.update(entry.values)
    in_time, sqls = merged["leads_in_time"], merged["sqls_handed_over"]
    if in_time is not None and sqls is not None and in_time > sqls:
        column = "leads_fristgerecht" if "leads_in_time" in entry.values else "sql_uebergeben"
        errors.append(
            _(
                "Zeile %(line)s, Spalte „%(column)s“: %(in_time)s Leads fristgerecht bearbeitet, "
                "aber nur %(sqls)s SQL übergeben."
            )
            % {"line": entry.line, "column": column, "in_time": in_time, "sqls": sqls}
        )


# The preview carries the parsed lines to the confirmation, signed: what is saved is
# exactly what was shown, and a changed field is refused.
PREVIEW_SALT = "agreements.actuals-import"
PREVIEW_MAX_AGE = 60 * 60  # a preview left open over lunch must be uploaded again


class PreviewExpired(Exception):
    """The confirmation's preview is too old or its signature does not hold."""


class PreviewForeign(Exception):
    """The confirmation's preview was made for another agreement or another user."""


def preview_seal(*, agreement: Agreement, user, entries: list[ActualsEntry]) -> str:
    """The entries of a read file, signed for the confirmation (``preview_open``)."""
    return signing.dumps(
        {"agreement": agreement.pk, "user": user.pk, "entries": entries_dump(entries)},
        salt=PREVIEW_SALT,
    )


def preview_open(*, token: str, agreement: Agreement, user) -> list[ActualsEntry]:
    """The entries ``preview_seal`` signed, for this agreement and user only.

    Raises ``PreviewExpired`` for an old or altered token, ``PreviewForeign`` for one
    made for someone or something else.
    """
    try:
        payload = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        raise PreviewExpired from None
    if payload["agreement"] != agreement.pk or payload["user"] != user.pk:
        raise PreviewForeign
    return entries_load(payload["entries"])


def preview_rows(agreement: Agreement, result: CsvImport) -> list[tuple[Period, int, list[str]]]:
    """What the preview lists: per entry its period, its line and the figures read."""
    periods = {period.start: period for period in agreement_periods(agreement)}
    fields = [COLUMNS[column] for column in result.columns]
    return [
        (
            periods[entry.period_start],
            entry.line,
            [
                format_figure(entry.values.get(name)) if name in entry.values else ""
                for name in fields
            ],
        )
        for entry in result.entries
    ]


def entries_dump(entries: list[ActualsEntry]) -> list[dict]:
    """The entries as JSON-safe data, for the signed payload between preview and save."""
    return [
        {
            "period_start": e.period_start.isoformat(),
            "line": e.line,
            "values": {k: (str(v) if v is not None else None) for k, v in e.values.items()},
        }
        for e in entries
    ]


def entries_load(data: list[dict]) -> list[ActualsEntry]:
    """The inverse of ``entries_dump``."""
    entries = []
    for item in data:
        values = {}
        for name, value in item["values"].items():
            if value is None:
                values[name] = None
            elif name in AMOUNT_FIELDS:
                values[name] = Decimal(value)
            else:
                values[name] = int(value)
        entries.append(
            ActualsEntry(
                period_start=datetime.date.fromisoformat(item["period_start"]),
                values=values,
                line=item["line"],
            )
        )
    return entries


def actuals_csv_export(agreement: Agreement, actuals) -> str:
    """The agreement's Ist-Werte, one line per period, in the import's columns.

    Starts with a BOM for Excel; see the module docstring for the format.
    """
    by_start = {a.period_start: a for a in actuals}
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(["periode", "periode_bis", *COLUMNS])
    for period in agreement_periods(agreement):
        entry = by_start.get(period.start)
        cells = []
        for name in COLUMNS.values():
            value = getattr(entry, name, None) if entry else None
            cells.append("" if value is None else str(value))
        writer.writerow(
            [period.start.strftime("%d.%m.%Y"), period.end.strftime("%d.%m.%Y"), *cells]
        )
    return output.getvalue()
