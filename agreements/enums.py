"""The vocabularies of the SLA: roles, statuses, periods and the funnel stages.

Labels are the words the interface shows; where the document needs another German
form of the same choice (an adjective, "im Quartal"), the mapping lives next to the
enum so the two never drift apart.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")
    MANAGEMENT = "management", _("Geschäftsleitung")


# Marketing and Sales write the SLA; management reads it.
AUTHOR_ROLES = frozenset({Role.MARKETING, Role.SALES})


class Party(models.TextChoices):
    """The two sides that sign; each is represented by a member of the matching role."""

    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    AWAITING_SIGNATURES = "awaiting_signatures", _("Zur Unterzeichnung")
    SIGNED = "signed", _("Unterzeichnet")
    SUPERSEDED = "superseded", _("Abgelöst")


# Fully signed: the signed agreement, and one a signed renewal has since replaced. Both
# have their sealed PDF, their goals and their Ist-Werte.
SIGNED_STATUSES = frozenset({AgreementStatus.SIGNED, AgreementStatus.SUPERSEDED})


class AuditAction(models.TextChoices):
    """What an ``AuditEvent`` records; one value per kind of step on an agreement."""

    CREATED = "created", _("Erstellt")
    STEP_SAVED = "step_saved", _("Schritt gespeichert")
    SUBMITTED = "submitted", _("Zur Unterzeichnung eingereicht")
    SIGNED = "signed", _("Unterzeichnet")
    DECLINED = "declined", _("Abgelehnt")
    REOPENED = "reopened", _("Zurück in Bearbeitung")
    COMPLETED = "completed", _("Vollständig unterzeichnet")
    PDF_STORED = "pdf_stored", _("PDF abgelegt")
    PDF_DOWNLOADED = "pdf_downloaded", _("PDF heruntergeladen")
    # A document timestamp over the sealed PDF (agreements.evidence.archive_timestamps).
    ARCHIVE_TIMESTAMP_ADDED = "archive_timestamp_added", _("Archivzeitstempel hinzugefügt")
    RENEWED = "renewed", _("Erneuert")
    # Reported figures of a signed agreement changed (agreements.actuals.actuals_save).
    ACTUALS_SAVED = "actuals_saved", _("Ist-Werte gespeichert")
    # On the predecessor, when its renewal is signed (agreements.workflow._supersede).
    SUPERSEDED = "superseded", _("Abgelöst")


class SigningMethod(models.TextChoices):
    """How a signer proved at the sign form that it is them; the ``signed`` event keeps it."""

    PASSWORD = "password", _("Passwort")
    TOTP = "totp", _("Code aus der Authenticator-App")
    WEBAUTHN = "webauthn", _("Passkey")


class ReminderKind(models.TextChoices):
    """What a reminder mail (``manage.py send_reminders``) is about."""

    SIGNATURE = "signature", _("Unterschrift ausstehend")
    RENEWAL = "renewal", _("Erneuerung fällig")


class SqlPeriod(models.TextChoices):
    """The period in which the agreed number of SQLs is counted (section 6)."""

    MONTH = "month", _("Monat")
    QUARTER = "quarter", _("Quartal")
    HALF_YEAR = "half_year", _("Halbjahr")
    YEAR = "year", _("Jahr")


class ReportBack(models.TextChoices):
    """What Sales reports to Marketing after a close (section 6)."""

    REVENUE = "revenue", _("Umsatz")
    ATTRIBUTION = "attribution", _("Attribution")
    BOTH = "both", _("Umsatz und Attribution")


class ReportingChannel(models.TextChoices):
    """Where attainment is reported (section 9)."""

    HUBSPOT_MARKETING = "hubspot_marketing", _("HubSpot Marketing Dashboard")
    HUBSPOT_SALES = "hubspot_sales", _("HubSpot Sales Dashboard")
    PRESENTATION = "presentation", _("Präsentation (PPT)")
    OTHER = "other", _("Anderes Tool")


class ReportingAudience(models.TextChoices):
    """Who receives the report as well (section 9)."""

    MANAGEMENT_LEVEL = "management_level", _("Leitungsebene")
    # A context of its own: as a role "Geschäftsleitung" is "Management" in English, as
    # the recipient of the report (beside "Leitungsebene") the "Executive board".
    EXECUTIVE_BOARD = "executive_board", pgettext_lazy("reporting audience", "Geschäftsleitung")
    OTHER = "other", _("Andere")


class ExchangeInterval(models.TextChoices):
    """How often the teams meet to optimise performance (section 10)."""

    WEEKLY = "weekly", _("wöchentlich")
    BIWEEKLY = "biweekly", _("alle zwei Wochen")
    MONTHLY = "monthly", _("monatlich")
    QUARTERLY = "quarterly", _("quartalsweise")


# Section 10 reads "einen [INTERVALL] und regelmässigen Austausch": the document needs
# the inflected adjective, which is the SLA's own German and therefore not translated.
EXCHANGE_INTERVAL_ADJECTIVE = {
    ExchangeInterval.WEEKLY: "wöchentlichen",
    ExchangeInterval.BIWEEKLY: "zweiwöchentlichen",
    ExchangeInterval.MONTHLY: "monatlichen",
    ExchangeInterval.QUARTERLY: "quartalsweisen",
}

# The document's own words for the choices above, independent of the interface language.
SQL_PERIOD_DOCUMENT = {
    SqlPeriod.MONTH: "Monat",
    SqlPeriod.QUARTER: "Quartal",
    SqlPeriod.HALF_YEAR: "Halbjahr",
    SqlPeriod.YEAR: "Jahr",
}
REPORT_BACK_DOCUMENT = {
    ReportBack.REVENUE: "Umsatz",
    ReportBack.ATTRIBUTION: "Attribution",
    ReportBack.BOTH: "Umsatz und Attribution",
}
REPORTING_CHANNEL_DOCUMENT = {
    ReportingChannel.HUBSPOT_MARKETING: "HubSpot Marketing Dashboard",
    ReportingChannel.HUBSPOT_SALES: "HubSpot Sales Dashboard",
    ReportingChannel.PRESENTATION: "PPT",
}
REPORTING_AUDIENCE_DOCUMENT = {
    ReportingAudience.MANAGEMENT_LEVEL: "Leitungsebene",
    ReportingAudience.EXECUTIVE_BOARD: "Geschäftsleitung",
}


class FunnelStage(models.TextChoices):
    """The six stages of the inbound funnel in the appendix, top to bottom.

    The value is also the name of the stage's figure on ``Agreement`` (``funnel_<value>``).
    """

    VISITS = "visits", _("Visits")
    TARGET_ACCOUNTS = "target_accounts", _("Target Accounts")
    MQL = "mql", _("MQL")
    PROSPECTS = "prospects", _("Prospects")
    SQL = "sql", _("SQL")
    CUSTOMERS = "customers", _("Customers")

    @property
    def phase(self) -> str:
        """The appendix's upper-case phase word; SQL has none in the template."""
        return FUNNEL_PHASE[self]

    @property
    def document_label(self) -> str:
        """The stage's name as the appendix writes it."""
        return FUNNEL_DOCUMENT_LABEL[self]

    @property
    def field_name(self) -> str:
        return f"funnel_{self.value}"


FUNNEL_PHASE = {
    FunnelStage.VISITS: "ATTRACT",
    FunnelStage.TARGET_ACCOUNTS: "IDENTIFY",
    FunnelStage.MQL: "CONVERT",
    FunnelStage.PROSPECTS: "CONNECT",
    FunnelStage.SQL: "",
    FunnelStage.CUSTOMERS: "CLOSE",
}
FUNNEL_DOCUMENT_LABEL = {
    FunnelStage.VISITS: "Visits",
    FunnelStage.TARGET_ACCOUNTS: "Target Accounts",
    FunnelStage.MQL: "Marketing Qualified Leads",
    FunnelStage.PROSPECTS: "Prospects",
    FunnelStage.SQL: "Sales Qualified Leads",
    FunnelStage.CUSTOMERS: "Customers",
}
