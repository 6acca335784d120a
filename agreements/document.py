"""The values that fill the SLA template, formatted the Swiss way.

``SlaDocument`` turns an ``Agreement`` into what ``templates/agreements/document.html``
needs: every placeholder of the template as a ``Slot`` that renders either the escaped
value or, while it is empty, the template's own placeholder marked as missing. The same
slots answer "what is still missing, and which field fills it".

The document is always German, whatever language the interface speaks, so the values
are formatted here and not by the active locale.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .enums import (
    EXCHANGE_INTERVAL_ADJECTIVE,
    REPORT_BACK_DOCUMENT,
    REPORTING_AUDIENCE_DOCUMENT,
    REPORTING_CHANNEL_DOCUMENT,
    SQL_PERIOD_DOCUMENT,
    AgreementStatus,
    FunnelStage,
    Party,
    ReportingAudience,
    ReportingChannel,
)
from .fingerprints import FURTHER_DEFINITIONS
from .models import Signature
from .numbers import format_integer, format_rate
from .people import display_name

TITLE = "Leistungsvereinbarung (SLA) zwischen Marketing und Sales der"
DOTS = "……"  # the template's blank for a definition or a figure
# What the framework document (section 4) is called when its upload had no name.
FRAMEWORK_DOCUMENT_DEFAULT_NAME = "Rahmendokument.pdf"
# The document is Swiss whatever the server or the reader: a signature dated in Zurich.
SWISS_TIME_ZONE = ZoneInfo("Europe/Zurich")


def swiss_date(value: datetime.date) -> str:
    return value.strftime("%d.%m.%Y")


def swiss_time(value: datetime.datetime) -> str:
    """An aware time in Zurich, to the minute: "01.12.2026, 19:26 Uhr"."""
    return f"{value.astimezone(SWISS_TIME_ZONE):%d.%m.%Y, %H:%M} Uhr"


def conversion_rate(upper: int | None, lower: int | None) -> Decimal | None:
    """The share of ``upper`` that reaches ``lower``, in percent; None when undefined."""
    if not upper or lower is None:
        return None
    return Decimal(lower) * 100 / Decimal(upper)


METRIC_SEPARATOR = re.compile(r"\s*(?:[,;\n]|\bund\b)\s*")


def german_list(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b und c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " und " + items[-1]


# The slots whose values are names of people, companies, functions, systems and tools
# (the business unit and group are descriptions, hyphenated like the text around them).
PROPER_NAMES = frozenset(
    {
        "firma",
        "marketing_function",
        "sales_function",
        "marketing_representative",
        "sales_representative",
        "system_name",
        "marketing_responsible",
        "marketing_deputy",
        "sales_responsible",
        "sales_deputy",
        "reporting_channel",
        "reporting_audience",
    }
)


@dataclass(frozen=True)
class Slot:
    """One placeholder of the template and the value that replaces it."""

    placeholder: str
    # What the interface's missing list calls it: translated, unlike the document's text.
    label: str | Promise
    # The field of Agreement that fills it (the first, where several do): what the wizard
    # reads the slot's step from (agreements.wizard.step_of).
    field: str
    text: str  # empty while missing
    # A name (person, company, function, brand): never hyphenated in the PDF, where the
    # German text around it is ("Anna Kel-ler" and "Hub-Spot" read as typos).
    proper_name: bool = False

    @property
    def missing(self) -> bool:
        return not self.text

    @property
    def plain(self) -> str:
        return self.text or self.placeholder

    def __html__(self) -> SafeString:
        if self.missing:
            return format_html(
                '<mark class="placeholder" title="Fehlt: {}">{}</mark>',
                _german(self.label),
                self.placeholder,
            )
        if self.proper_name:
            return format_html('<span class="sla-name">{}</span>', self.text)
        return escape(self.text)

    # Django's templates call str() before escaping: hand them the safe HTML.
    __str__ = __html__


@dataclass(frozen=True)
class FunnelRow:
    stage: FunnelStage
    figure: Slot
    rate_from_previous: str | None  # "45,6 %", "1,27 : 1", "–" when undefined, None for the first
    # More than the stage before: possible (more MQL than Target Accounts), worth a look.
    exceeds_previous: bool = False

    @property
    def phase(self) -> str:
        return self.stage.phase

    @property
    def label(self) -> str:
        return self.stage.document_label


@dataclass(frozen=True)
class SignatureLine:
    """One party's place in the signature block: signed online, or still the line to sign."""

    party: Party
    representative: str
    signer: str = ""  # the typed name once signed; empty until then
    job_title: str = ""  # the signer's Membership.job_title once signed
    signed_at: str = ""  # "01.12.2026, 19:26 Uhr" (Europe/Zurich) once signed

    @property
    def signed(self) -> bool:
        return bool(self.signer)


class SlaDocument:
    """Everything ``document.html`` prints, computed once per render."""

    def __init__(self, agreement, further_definitions=None, signatures=None):
        """``signatures``: the agreement's valid ones, each with a ``job_title``
        (``Signature.objects.valid().with_job_title()``); read here in one query when
        not given and the agreement is past the draft."""
        self.agreement = agreement
        self.slots: dict[str, Slot] = {}
        a = agreement
        self._add("firma", "[FIRMA]", _("Firma"), a.organisation.name, field="organisation")

        # 2. Geltungsbereich, repeated in 11. Erneuerung
        self._add("start_date", "[START_DATUM]", _("Startdatum"), _date(a.start_date))
        self._add("end_date", "[END_DATUM]", _("Enddatum"), _date(a.end_date))
        self._add(
            "geographic_unit",
            "[WIRKUNGSBEREICH GEOGRAFISCH]",
            _("Geschäftseinheit (geografisch)"),
            a.geographic_unit,
        )
        self._add(
            "group_subgroup",
            "[GRUPPE_UNTERGRUPPE]",
            _("Gruppe / Untergruppe"),
            a.group_subgroup,
        )

        # 3. Parteien
        for party, placeholder in ((Party.MARKETING, "[INBOUND_MARKETING]"),
                                   (Party.SALES, "[INBOUND_SALES]")):  # fmt: skip
            self._add(
                f"{party.value}_function",
                placeholder,
                format_lazy(_("Funktion {party}"), party=party.label),
                getattr(a, f"{party.value}_function"),
            )
            self._add(
                f"{party.value}_representative",
                "[NAME]",
                format_lazy(_("Vertretung {party}"), party=party.label),
                display_name(a.representative(party)),
            )

        # 4. Rahmen
        # The PDF carries the document as an attachment of this name (agreements.pdf).
        system = a.system_name
        if system and getattr(a, "framework_document", None):
            name = a.framework_document_name or FRAMEWORK_DOCUMENT_DEFAULT_NAME
            system = f"{system} (Dokument im Anhang: {name})"
        self._add("system_name", "[SYSTEM_NAME, DOKUMENT IM ANHANG]", _("System"), system)
        self._add(
            "system_created_on",
            "[ERSTELLUNGSDATUM]",
            _("Erstellungsdatum des Systems"),
            _date(a.system_created_on),
        )

        # 5. Definitionen
        for name, label, period_follows in DEFINITIONS:
            text = getattr(a, name)
            self._add(
                name,
                DOTS,
                format_lazy(_("Definition {term}"), term=label),
                _sentence(text) if period_follows else text,
            )
        x, y, z = (_stage_label(s) for s in (a.rate_x_stage, a.rate_y_stage, a.rate_z_stage))
        self._add("rate_xy", "[X zu Y]", _("Stufen X und Y"), _pair(x, y), field="rate_x_stage")
        self._add("rate_yz", "[Y zu Z]", _("Stufen Y und Z"), _pair(y, z), field="rate_z_stage")
        if further_definitions is None:
            further_definitions = list(a.further_definitions.all()) if a.pk else []
        self.further_definitions = [
            (
                escape(d.term),
                Slot(
                    DOTS,
                    format_lazy(_("Definition {term}"), term=d.term),
                    FURTHER_DEFINITIONS,
                    _sentence(d.text),
                ),
            )
            for d in further_definitions
        ]

        # 6. Zielsetzungen
        self._add(
            "sql_target",
            "[ANZAHL]",
            _("Anzahl SQL"),
            format_integer(a.sql_target) if a.sql_target is not None else "",
        )
        self._add(
            "sql_period",
            "[ZEITRAUM]",
            _("Zeitraum"),
            SQL_PERIOD_DOCUMENT.get(a.sql_period, ""),
        )
        hours = a.response_time_hours
        self._add(
            "response_time",
            "[STUNDEN]",
            _("Bearbeitungszeit"),
            "" if hours is None else f"{hours} Stunde" if hours == 1 else f"{hours} Stunden",
            field="response_time_hours",
        )
        self._add(
            "report_back",
            "[UMSATZ/ATTRIBUTION]",
            _("Meldung nach Abschluss"),
            REPORT_BACK_DOCUMENT.get(a.report_back, ""),
        )

        # 7. Metriken
        metrics = [
            word
            for flag, word in ((a.metric_sql, "SQL-Metriken"), (a.metric_revenue, "Umsatz"))
            if flag
        ]
        # The author's own list ("Pipeline, Churn und NPS") joins the sentence's list, so
        # that "und" stands once, before the last: "SQL-Metriken, Umsatz, Pipeline, Churn
        # und NPS", never "Umsatz und Pipeline, Churn und NPS".
        metrics += [item.strip() for item in METRIC_SEPARATOR.split(a.metric_other) if item.strip()]
        self._add(
            "metrics",
            "[SQL METRIKEN, UMSATZ]",
            _("Metriken"),
            german_list(metrics),
            field="metric_sql",
        )

        # 8. Verantwortungsbereiche
        for party in Party:
            self._add(
                f"{party.value}_responsible",
                "[NAME]",
                format_lazy(_("Verantwortung {party}"), party=party.label),
                getattr(a, f"{party.value}_responsible"),
            )
            self._add(
                f"{party.value}_deputy",
                "[STELLVERTRETUNG]",
                format_lazy(_("Stellvertretung {party}"), party=party.label),
                getattr(a, f"{party.value}_deputy"),
            )

        # 9. Reporting, 10. Performance-Optimierung, 11. Erneuerung
        channel = (
            a.reporting_channel_other
            if a.reporting_channel == ReportingChannel.OTHER
            else REPORTING_CHANNEL_DOCUMENT.get(a.reporting_channel, "")
        )
        self._add(
            "reporting_channel",
            "[HUBSPOT MARKETING/SALES DASHBOARD/PPT/TOOL]",
            _("Reporting-Kanal"),
            channel,
        )
        audience = (
            a.reporting_audience_other
            if a.reporting_audience == ReportingAudience.OTHER
            else REPORTING_AUDIENCE_DOCUMENT.get(a.reporting_audience, "")
        )
        self._add(
            "reporting_audience",
            "[LEITUNGSEBENE/GESCHÄFTSLEITUNG]",
            _("Reporting zu Handen"),
            audience,
        )
        self._add(
            "exchange_interval",
            "[INTERVALL]",
            _("Intervall des Austauschs"),
            EXCHANGE_INTERVAL_ADJECTIVE.get(a.exchange_interval, ""),
        )
        self._add(
            "renewal_date",
            "[ERNEUERUNGSDATUM]",
            _("Erneuerungsdatum"),
            _date(a.renewal_date),
        )

        # Anhang
        self.funnel: list[FunnelRow] = []
        previous = None
        for index, stage in enumerate(FunnelStage):
            figure = a.funnel_figure(stage)
            slot = self._add(
                stage.field_name,
                DOTS,
                format_lazy(
                    _("Funnel {phase} {stage}"), phase=stage.phase, stage=stage.document_label
                )
                if stage.phase
                else format_lazy(_("Funnel {stage}"), stage=stage.document_label),
                "" if figure is None else format_integer(figure),
            )
            rate, value = None, None
            if index:
                value = conversion_rate(previous, figure)
                rate = "–" if value is None else format_rate(value)
            self.funnel.append(FunnelRow(stage, slot, rate, value is not None and value > 100))
            previous = figure

        if signatures is None:
            signatures = _valid_signatures(a)
        signed = {s.party: s for s in signatures}
        self.signature_lines = [
            _signature_line(party, a.representative(party), signed.get(party)) for party in Party
        ]

    def _add(
        self, name: str, placeholder: str, label: str | Promise, text, *, field: str = ""
    ) -> Slot:
        """The slot ``name``, filled by the field of the same name unless ``field`` says."""
        slot = Slot(placeholder, label, field or name, (text or "").strip(), name in PROPER_NAMES)
        self.slots[name] = slot
        return slot

    def __getitem__(self, name: str) -> Slot:
        return self.slots[name]

    @property
    def title(self) -> str:
        return f"{TITLE} {self.slots['firma'].plain}"

    @property
    def missing(self) -> list[Slot]:
        """What an author still has to fill, in the order of the document."""
        slots = list(self.slots.values())
        slots += [slot for _, slot in self.further_definitions]
        return [slot for slot in slots if slot.missing]

    @property
    def is_complete(self) -> bool:
        return not self.missing


# (field, label in the missing list, whether the template's sentence ends with its own
# full stop). The template's "Als „Closed-Won“ gelten ……" has none, so the author's text
# keeps its own.
DEFINITIONS = (
    ("definition_visits", _("Visits"), True),
    ("definition_contacts", _("Contacts"), True),
    ("definition_leads", _("Leads"), True),
    ("definition_prospects", _("Prospects"), True),
    ("definition_mql", _("MQL"), True),
    ("definition_sql", _("SQL"), True),
    ("definition_rate_xy", _("Conversion Rate X zu Y"), True),
    ("definition_rate_yz", _("Conversion Rate Y zu Z"), True),
    ("definition_close_rate", _("Close-Rate"), True),
    ("definition_attribution", _("Attribution"), True),
    ("definition_deal_stages", _("DEAL-Stages"), True),
    ("definition_closed_won", _("„Closed-Won“"), False),
    ("definition_revenue", _("Umsatz"), True),
)


def _valid_signatures(agreement) -> list:
    # A draft has none that count: a decline or a reopen voids them all.
    if not agreement.pk or agreement.status == AgreementStatus.DRAFT:
        return []
    return list(Signature.objects.valid().with_job_title().filter(agreement_id=agreement.pk))


def _signature_line(party: Party, representative, signature) -> SignatureLine:
    if signature is None:
        return SignatureLine(party, display_name(representative))
    return SignatureLine(
        party,
        display_name(representative),
        signer=signature.typed_name,
        job_title=getattr(signature, "job_title", None) or "",
        signed_at=swiss_time(signature.signed_at),
    )


def _date(value: datetime.date | None) -> str:
    return swiss_date(value) if value else ""


def _sentence(text: str) -> str:
    """A definition without its final full stop: the template's sentence supplies it."""
    text = (text or "").strip()
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text


def _stage_label(value: str) -> str:
    return _german(FunnelStage(value).label) if value else ""


def _german(text: str | Promise) -> str:
    """A translatable label in its German source form, for the document's own text.

    The interface may speak English; the document always reads German.
    """
    with translation.override(None):
        return str(text)


def _pair(upper: str, lower: str) -> str:
    return f"{upper} zu {lower}" if upper and lower else ""
