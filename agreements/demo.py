"""Demo data: the Muster AG, its three leads, an administrator and two SLAs.

The SLA for 2027 is a complete draft, ready to be submitted and signed (the browser
tests do). The one for 2026 went through the real sign-off: submitted by marketing,
signed by marketing and sales with ``agreement_submit`` and ``agreement_sign``, so that
its sealed PDF is stored and management can download it right after ``make run``. The
completion enqueues the PDF's task when ``load_demo``'s transaction commits;
``manage.py load_demo`` stores it at once (``signed_pdf_store``), so the demo does not
wait for a worker.

For local use only (``make run``): the accounts share the password ``demo``. Loading
twice changes nothing, so ``make run`` may call it every time.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from .actuals import ActualsEntry, actuals_save
from .audit import RequestMeta
from .enums import (
    ExchangeInterval,
    FunnelStage,
    Party,
    ReportBack,
    ReportingAudience,
    ReportingChannel,
    Role,
    SqlPeriod,
)
from .models import Agreement, FurtherDefinition, Membership, Organisation, PeriodActuals
from .workflow import agreement_sign, agreement_submit

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo password, refused in production

PEOPLE = (
    # username, first name, last name, role, job title
    ("marketing", "Anna", "Keller", Role.MARKETING, "Leiterin Inbound Marketing"),
    ("sales", "Marco", "Brunner", Role.SALES, "Leiter Inbound Sales"),
    ("management", "Claudia", "Meier", Role.MANAGEMENT, "CEO"),
)

FUNNEL = {
    FunnelStage.VISITS: 34_000,
    FunnelStage.TARGET_ACCOUNTS: 450,
    FunnelStage.MQL: 570,
    FunnelStage.PROSPECTS: 290,
    FunnelStage.SQL: 260,
    FunnelStage.CUSTOMERS: 200,
}
# The signed SLA of the year before, with last year's smaller figures.
SIGNED_YEAR = 2026
SIGNED_FUNNEL = {
    FunnelStage.VISITS: 28_500,
    FunnelStage.TARGET_ACCOUNTS: 400,
    FunnelStage.MQL: 480,
    FunnelStage.PROSPECTS: 250,
    FunnelStage.SQL: 220,
    FunnelStage.CUSTOMERS: 170,
}
# Where the demo's signatures "come from": documentation addresses (RFC 5737), and a
# user agent that says what signed.
DEMO_META = RequestMeta(ip="192.0.2.26", user_agent="SLA-Portal Demodaten (manage.py load_demo)")


@transaction.atomic
def load_demo() -> Agreement:
    """Create what is missing of the demo data and return the demo SLA for 2027 (a draft).

    Signing the 2026 SLA seals its PDF once the transaction commits, so a seal
    certificate must exist (``manage.py load_demo`` creates one for development).
    """
    User = get_user_model()
    organisation, _ = Organisation.objects.get_or_create(name="Muster AG")
    users = {}
    for username, first_name, last_name, role, job_title in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@muster.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        # The management lead also administers the team (agreements.team); ``admin``
        # below is staff, which is the portal's operator, not a member.
        Membership.objects.get_or_create(
            user=user,
            organisation=organisation,
            defaults={
                "role": role,
                "job_title": job_title,
                "is_admin": role == Role.MANAGEMENT,
            },
        )
        users[role] = user
    # A demo database from before teams existed gets its administrator too.
    if not Membership.objects.admins().filter(organisation=organisation).exists():
        Membership.objects.filter(organisation=organisation, user=users[Role.MANAGEMENT]).update(
            is_admin=True
        )

    admin, created = User.objects.get_or_create(
        username="admin",
        defaults={"email": "admin@muster.example", "is_staff": True, "is_superuser": True},
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])

    # The signed one first: the 2027 draft, changed last, then heads the dashboard.
    if signed_demo_agreement() is None:
        _create_signed_agreement(organisation, users)
    _create_demo_actuals(signed_demo_agreement(), users)
    agreement = Agreement.objects.filter(
        organisation=organisation, start_date=datetime.date(2027, 1, 1)
    ).first()
    if agreement is None:
        agreement = _create_agreement(organisation, users)
    return agreement


def signed_demo_agreement() -> Agreement | None:
    """The demo SLA for 2026, signed by marketing and sales; None before ``load_demo``."""
    return Agreement.objects.filter(
        organisation__name="Muster AG", start_date=datetime.date(SIGNED_YEAR, 1, 1)
    ).first()


def _create_signed_agreement(organisation, users) -> Agreement:
    """The 2026 SLA, submitted and signed through the real workflow."""
    agreement = _create_agreement(
        organisation,
        users,
        year=SIGNED_YEAR,
        system_created_on=datetime.date(SIGNED_YEAR - 1, 11, 14),
        sql_target=55,
        funnel=SIGNED_FUNNEL,
    )
    agreement = agreement_submit(agreement=agreement, user=users[Role.MARKETING], meta=DEMO_META)
    for party in (Party.MARKETING, Party.SALES):
        user = users[Role(party.value)]
        agreement_sign(
            agreement=agreement,
            party=party,
            user=user,
            typed_name=user.get_full_name(),
            content_sha256=agreement.content_sha256,
            meta=DEMO_META,
        )
    agreement.refresh_from_db()
    return agreement


# Ist-Werte of the signed 2026 SLA for its first three quarters (target: 55 SQL each), so
# that the goals dashboard shows green, yellow and red after `make run`; Q4 is still open.
DEMO_ACTUALS = {
    datetime.date(SIGNED_YEAR, 1, 1): {
        Role.MARKETING: {
            "sqls_handed_over": 58,
            "funnel_visits": 7_200,
            "funnel_target_accounts": 105,
            "funnel_mql": 124,
            "funnel_prospects": 66,
            "funnel_sql": 58,
        },
        Role.SALES: {
            "leads_in_time": 52,
            "revenue": Decimal("184500.00"),
            "attributed_revenue": Decimal("121300.00"),
            "funnel_customers": 41,
        },
    },
    datetime.date(SIGNED_YEAR, 4, 1): {
        Role.MARKETING: {
            "sqls_handed_over": 49,
            "funnel_visits": 6_900,
            "funnel_target_accounts": 98,
            "funnel_mql": 110,
            "funnel_prospects": 60,
            "funnel_sql": 49,
        },
        Role.SALES: {
            "leads_in_time": 44,
            "revenue": Decimal("162000.00"),
            "attributed_revenue": Decimal("98500.00"),
            "funnel_customers": 38,
        },
    },
    datetime.date(SIGNED_YEAR, 7, 1): {
        Role.MARKETING: {
            "sqls_handed_over": 41,
            "funnel_visits": 6_100,
            "funnel_target_accounts": 90,
            "funnel_mql": 98,
            "funnel_prospects": 52,
            "funnel_sql": 41,
        },
        Role.SALES: {
            "leads_in_time": 30,
            "revenue": Decimal("120750.50"),
            "attributed_revenue": Decimal("80200.00"),
            "funnel_customers": 31,
        },
    },
}


def _create_demo_actuals(agreement, users) -> None:
    """Report the demo figures as marketing and sales would, once (issue 8)."""
    if PeriodActuals.objects.filter(agreement=agreement).exists():
        return
    for role in (Role.MARKETING, Role.SALES):
        entries = [
            ActualsEntry(period_start=start, values=figures[role])
            for start, figures in DEMO_ACTUALS.items()
        ]
        actuals_save(agreement=agreement, user=users[role], role=role, entries=entries)


def _create_agreement(
    organisation,
    users,
    *,
    year: int = 2027,
    system_created_on: datetime.date = datetime.date(2026, 11, 16),
    sql_target: int = 65,
    funnel: dict = FUNNEL,
) -> Agreement:
    marketing, sales = users[Role.MARKETING], users[Role.SALES]
    agreement = Agreement(
        organisation=organisation,
        created_by=marketing,
        updated_by=sales,
        start_date=datetime.date(year, 1, 1),
        end_date=datetime.date(year, 12, 31),
        geographic_unit="Deutschschweiz",
        group_subgroup="Division Industriekunden, Untergruppe KMU",
        marketing_function="Inbound Marketing",
        marketing_representative=marketing,
        sales_function="Inbound Sales",
        sales_representative=sales,
        system_name=f"Muster Inbound Playbook {year}",
        system_created_on=system_created_on,
        definition_visits=(
            "alle Sitzungen auf muster.ch und den Kampagnen-Landingpages, gemessen in HubSpot, "
            "ohne interne Zugriffe und Bots"
        ),
        definition_contacts=(
            "alle Personen mit gültiger geschäftlicher E-Mail-Adresse im CRM, die mindestens "
            "ein Formular ausgefüllt oder einen Inhalt heruntergeladen haben"
        ),
        definition_leads=(
            "Contacts, die einem Unternehmen aus der Zielkundenliste zugeordnet sind und ein "
            "Kaufinteresse zeigen"
        ),
        definition_prospects=(
            "Leads, mit denen Sales ein erstes Gespräch geführt und einen konkreten Bedarf "
            "festgestellt hat"
        ),
        definition_mql=(
            "Leads mit einem Lead-Score von mindestens 60 Punkten, die zum Idealkundenprofil passen"
        ),
        definition_sql=(
            "MQL, die Sales nach Prüfung von Budget, Entscheidungskompetenz, Bedarf und "
            "Zeitplan angenommen hat"
        ),
        rate_x_stage=FunnelStage.MQL,
        rate_y_stage=FunnelStage.SQL,
        definition_rate_xy=(
            "der Anteil der MQL eines Monats, die innerhalb von 30 Tagen von Sales als SQL "
            "angenommen werden"
        ),
        rate_z_stage=FunnelStage.CUSTOMERS,
        definition_rate_yz=(
            "der Anteil der SQL eines Quartals, die innerhalb von 90 Tagen zu Kunden werden"
        ),
        definition_close_rate=(
            "das Verhältnis der gewonnenen Deals zu allen abgeschlossenen Deals (gewonnen und "
            "verloren) einer Periode"
        ),
        definition_attribution=(
            "die Zuordnung des Umsatzes zu den Marketing-Interaktionen eines Deals nach dem "
            "U-förmigen Modell: je 40 % auf erste und letzte Interaktion, 20 % auf die übrigen"
        ),
        definition_deal_stages=(
            "Termin vereinbart, Bedarf qualifiziert, Angebot gesendet, Verhandlung, "
            "Closed-Won und Closed-Lost"
        ),
        definition_closed_won=(
            "Deals mit unterzeichnetem Auftrag oder Vertrag und im CRM erfasster Auftragssumme."
        ),
        definition_revenue=(
            "der fakturierte Netto-Umsatz (ohne MWST) der ersten zwölf Monate eines "
            "gewonnenen Deals"
        ),
        sql_target=sql_target,
        sql_period=SqlPeriod.QUARTER,
        response_time_hours=24,
        report_back=ReportBack.BOTH,
        metric_sql=True,
        metric_revenue=True,
        marketing_responsible="Anna Keller",
        marketing_deputy="Lukas Frei",
        sales_responsible="Marco Brunner",
        sales_deputy="Sandra Huber",
        reporting_channel=ReportingChannel.HUBSPOT_MARKETING,
        reporting_audience=ReportingAudience.EXECUTIVE_BOARD,
        exchange_interval=ExchangeInterval.MONTHLY,
        renewal_date=datetime.date(year, 12, 1),
        **{stage.field_name: figure for stage, figure in funnel.items()},
    )
    agreement.full_clean()
    agreement.save()
    FurtherDefinition.objects.create(
        agreement=agreement,
        position=1,
        term="Target Accounts",
        text=(
            "die Unternehmen der Zielkundenliste, die Marketing und Sales jedes Jahr "
            "gemeinsam festlegen"
        ),
    )
    return agreement
