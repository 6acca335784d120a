"""Small factories for real objects: users, organisations, memberships, agreements."""

import contextlib
import itertools

from django.contrib.auth import get_user_model

from agreements.enums import Role
from agreements.models import Agreement, Membership, Organisation

_numbers = itertools.count(1)


def make_user(username=None, *, password="secret-pass-123", **fields):
    username = username or f"user{next(_numbers)}"
    fields.setdefault("first_name", username.capitalize())
    fields.setdefault("last_name", "Test")
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def make_organisation(name=None):
    return Organisation.objects.create(name=name or f"Firma {next(_numbers)} AG")


def make_member(organisation, role: Role, username=None, **user_fields):
    user = make_user(username, **user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def make_agreement(organisation=None, **fields):
    """An empty draft: every placeholder still open."""
    return Agreement.objects.create(organisation=organisation or make_organisation(), **fields)


def fresh(agreement) -> Agreement:
    """The agreement as stored now: what a test reads back after the code under test ran."""
    return Agreement.objects.get(pk=agreement.pk)


def make_pdf(pages=1, *, password=None) -> bytes:
    """A small real PDF written by pyHanko: ``pages`` empty A4 pages, encrypted if asked."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    for _ in range(pages):
        content = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
        writer.insert_page(PageObject(contents=content, media_box=[0, 0, 595, 842]))
    if password:
        writer.encrypt(owner_pass=password, user_pass=password)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


# Sign-off (agreements.workflow): what a browser would send, and the steps of a normal flow.
def make_request_meta(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) pytest"):
    from agreements.audit import RequestMeta

    return RequestMeta(ip=ip, user_agent=user_agent)


def submit_agreement(agreement, user=None):
    """Submit ``agreement`` for signature as ``user`` (default: its marketing representative)."""
    from agreements.workflow import agreement_submit

    return agreement_submit(
        agreement=agreement,
        user=user or agreement.marketing_representative,
        meta=make_request_meta(),
    )


def sign_agreement(agreement, party, user=None):
    """Sign as the party's representative (or ``user``), for the version now frozen."""
    from agreements.workflow import agreement_sign

    agreement = Agreement.objects.get(pk=agreement.pk)
    user = user or agreement.representative(party)
    return agreement_sign(
        agreement=agreement,
        party=party,
        user=user,
        typed_name=user.get_full_name(),
        content_sha256=agreement.content_sha256,
        meta=make_request_meta(),
    )


def make_complete_agreement(organisation=None, *, year=2027):
    """A draft with every placeholder filled (the demo's values), ready to be submitted.

    Its marketing and sales representatives are new members of ``organisation``, found on
    the agreement as ``marketing_representative`` and ``sales_representative``.
    """
    from agreements.demo import _create_agreement

    organisation = organisation or make_organisation()
    users = {role: make_member(organisation, role) for role in (Role.MARKETING, Role.SALES)}
    return _create_agreement(organisation, users, year=year)


def make_signed_goals_agreement(organisation=None, **fields):
    """A signed agreement with goals (issue 8: Ist-Werte), and its three members by role.

    The demo's complete text with ``fields`` changed (by default 55 SQL per quarter in
    2026 and the 2026 demo funnel), submitted and signed through the workflow. Returns
    ``(agreement, {Role: user})``.
    """
    import datetime

    from agreements.enums import Party, SqlPeriod

    organisation = organisation or make_organisation()
    agreement = make_complete_agreement(organisation, year=2026)
    values = {
        "start_date": datetime.date(2026, 1, 1),
        "end_date": datetime.date(2026, 12, 31),
        "sql_target": 55,
        "sql_period": SqlPeriod.QUARTER,
        "response_time_hours": 24,
        "funnel_visits": 28_500,
        "funnel_target_accounts": 400,
        "funnel_mql": 480,
        "funnel_prospects": 250,
        "funnel_sql": 220,
        "funnel_customers": 170,
    }
    values.update(fields)
    for name, value in values.items():
        setattr(agreement, name, value)
    agreement.save()
    submit_agreement(agreement)
    for party in Party:
        sign_agreement(agreement, party)
    users = {
        Role.MARKETING: agreement.marketing_representative,
        Role.SALES: agreement.sales_representative,
        Role.MANAGEMENT: make_member(organisation, Role.MANAGEMENT),
    }
    return Agreement.objects.get(pk=agreement.pk), users


# Integrity (tests/test_integrity.py): a change made behind every guard, as only someone
# with the database's superuser rights could make it, for the tests of what catches it.
def tamper(queryset, **values) -> int:
    """``UPDATE`` the rows of ``queryset`` past the ORM guards and PostgreSQL's triggers.

    ``QuerySet.update`` of Django's base class skips ``AgreementQuerySet.update``; on
    PostgreSQL ``session_replication_role = replica`` (superuser only) skips the
    triggers of migration 0004 for this statement. Returns the number of rows changed.
    """
    from django.db.models import QuerySet

    with _triggers_off():
        return QuerySet.update(queryset, **values)


def tamper_delete(queryset) -> int:
    """``DELETE`` the rows of ``queryset`` as an attacker with database rights would."""
    with _triggers_off():
        return queryset.delete()[0]


@contextlib.contextmanager
def _triggers_off():
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET session_replication_role")
