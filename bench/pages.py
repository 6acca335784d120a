"""Pages at scale: the same four pages with 10, 1'000 and 10'000 agreements in PostgreSQL.

The agreements are copies of the signed demo SLA, made with ``bulk_create``: each with its
further definition, its two signatures and its audit trail (the hash chain recomputed for
the copy, so the agreement page verifies it as it would a real one). Half belong to the
demo's own organisation, the Muster AG, whose users are measured: its dashboard and its
list of signed agreements grow with the count. The other half belong to organisations of
ten agreements each, which the measured users cannot see; they grow the tables only.

The pages are requested in this process through Django's test client, with DEBUG off and
the full middleware stack; a database execute wrapper counts their SQL queries.
"""

from __future__ import annotations

import datetime
import time

from .common import Sample, log

LEVELS = (10, 1_000, 10_000)
# The copies' moments lie this far back: old agreements, as in a portal that has run for a
# while. Copies as fresh as the demo would be mails that no task sent yet, in the task
# worker's eyes (``agreements.tasks.recovery`` looks two days back), and the worker of the
# background work figures would first send 20'000 of them, beside the measured requests.
AGE = datetime.timedelta(days=30)
OTHER_ORGANISATION_SIZE = 10
STEP = "ziele"  # the wizard step that is saved


def agreements_add(count: int, *, start_index: int) -> None:
    """Add ``count`` copies of the signed demo SLA, numbered from ``start_index``."""
    from django.db import models, transaction

    from agreements.audit import event_hash
    from agreements.demo import signed_demo_agreement
    from agreements.models import Agreement, AuditEvent, FurtherDefinition, Organisation, Signature

    template = signed_demo_agreement()
    home = template.organisation
    signatures = list(template.signatures.order_by("signed_at"))
    events = list(template.audit_events.order_by("sequence"))
    definitions = list(template.further_definitions.all())
    copied_fields = [
        field.attname
        for field in Agreement._meta.concrete_fields
        if field.attname not in {"id", "organisation_id"}
    ]
    moments = {
        field.attname
        for field in Agreement._meta.concrete_fields
        if isinstance(field, models.DateTimeField)
    }

    with transaction.atomic():
        organisations = {}
        agreements = []
        for index in range(start_index, start_index + count):
            if index % 2 == 0:
                organisation = home
            else:
                number = index // (2 * OTHER_ORGANISATION_SIZE)
                if number not in organisations:
                    organisations[number], _ = Organisation.objects.get_or_create(
                        name=f"Bench-Firma {number} AG"
                    )
                organisation = organisations[number]
            agreement = Agreement(organisation=organisation)
            for name in copied_fields:
                value = getattr(template, name)
                setattr(agreement, name, value - AGE if name in moments and value else value)
            year = 2200 + index % 7000  # the dates only vary the rows
            agreement.start_date = template.start_date.replace(year=year)
            agreement.end_date = template.end_date.replace(year=year)
            agreement.renewal_date = template.renewal_date.replace(year=year)
            agreements.append(agreement)
        Agreement.objects.bulk_create(agreements, batch_size=1000)

        FurtherDefinition.objects.bulk_create(
            [
                FurtherDefinition(
                    agreement=agreement, position=d.position, term=d.term, text=d.text
                )
                for agreement in agreements
                for d in definitions
            ],
            batch_size=2000,
        )
        copies = [
            Signature(
                agreement=agreement,
                party=s.party,
                user_id=s.user_id,
                typed_name=s.typed_name,
                signed_at=s.signed_at - AGE,
                ip_address=s.ip_address,
                user_agent=s.user_agent,
                content_sha256=s.content_sha256,
            )
            for agreement in agreements
            for s in signatures
        ]
        Signature.objects.bulk_create(copies, batch_size=2000)

        new_events = []
        for position, agreement in enumerate(agreements):
            own = copies[position * len(signatures) : (position + 1) * len(signatures)]
            signature_ids = {old.pk: new.pk for old, new in zip(signatures, own, strict=True)}
            previous_hash = ""
            for e in events:
                details = dict(e.details)
                if "signature_id" in details:
                    details["signature_id"] = signature_ids[details["signature_id"]]
                if "signatures" in details:
                    details["signatures"] = [
                        {**s, "signature_id": signature_ids[s["signature_id"]]}
                        for s in details["signatures"]
                    ]
                event = AuditEvent(
                    agreement_id=agreement.pk,
                    sequence=e.sequence,
                    action=e.action,
                    actor_id=e.actor_id,
                    actor_name=e.actor_name,
                    created_at=e.created_at - AGE,
                    ip_address=e.ip_address,
                    user_agent=e.user_agent,
                    details=details,
                    previous_hash=previous_hash,
                )
                event.hash = previous_hash = event_hash(event)
                new_events.append(event)
        AuditEvent.objects.bulk_create(new_events, batch_size=2000)


def scale_to(total: int, present: int) -> int:
    """Grow the bench's copies from ``present`` to ``total``; returns ``total``."""
    from django.db import connection

    start = time.perf_counter()
    step = 2000
    for first in range(present, total, step):
        agreements_add(min(step, total - first), start_index=first)
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics for the planner and the
        # visibility map that lets a count read the index alone.
        cursor.execute("VACUUM ANALYZE")
    log(f"{total} agreements in place ({time.perf_counter() - start:.1f} s)")
    return total


class Pages:
    """The four measured requests, each a function that returns the response."""

    def __init__(self):
        from django.test import Client

        from agreements.demo import signed_demo_agreement
        from agreements.models import Agreement, Membership

        signed = signed_demo_agreement()
        members = {
            m.role: m.user
            for m in Membership.objects.filter(organisation=signed.organisation).select_related(
                "user"
            )
        }
        self.draft = Agreement.objects.get(
            organisation=signed.organisation, start_date__year=2027, status="draft"
        )
        self.signed = signed
        # The test client's default host, testserver, is not an allowed host in production.
        self.author = Client(HTTP_HOST="127.0.0.1")
        self.author.force_login(members["marketing"])
        self.management = Client(HTTP_HOST="127.0.0.1")
        self.management.force_login(members["management"])

    def dashboard(self):
        return self.author.get("/")

    def agreement(self):
        return self.author.get(f"/agreements/{self.signed.pk}/")

    def step_save(self):
        from agreements.models import Agreement
        from agreements.wizard import STEP_BY_SLUG

        draft = Agreement.objects.get(pk=self.draft.pk)
        form = STEP_BY_SLUG[STEP].form_class(instance=draft)
        data = {}
        for bound in form:
            value = bound.value()
            if value is True:
                data[bound.name] = "on"
            elif value not in (None, False):
                data[bound.name] = str(value)
        return self.author.post(f"/agreements/{draft.pk}/bearbeiten/{STEP}/", data)

    def signed_list(self):
        return self.management.get("/unterzeichnet/")

    def all(self):
        return {
            "Übersicht (dashboard)": (self.dashboard, 200),
            "Vereinbarung (agreement_detail)": (self.agreement, 200),
            "Wizard-Schritt speichern (agreement_step, POST)": (self.step_save, 302),
            "Unterzeichnete SLA (signed_agreements)": (self.signed_list, 200),
        }


class QueryCounter:
    """A database execute wrapper that counts the statements sent to PostgreSQL."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure_page(function, expected_status: int, *, repeat: int, budget: float):
    """Query count of one request, then up to ``repeat`` timed requests within ``budget`` s."""
    from django.db import connection

    response = function()  # warm: templates compiled, connection open
    if response.status_code != expected_status:
        raise RuntimeError(f"{function.__name__}: HTTP {response.status_code}")
    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        function()
    sample = Sample()
    started = time.perf_counter()
    while len(sample) < repeat and (len(sample) < 3 or time.perf_counter() - started < budget):
        start = time.perf_counter()
        response = function()
        sample.values.append(time.perf_counter() - start)
        if response.status_code != expected_status:
            raise RuntimeError(f"{function.__name__}: HTTP {response.status_code}")
    return queries.count, sample, len(response.content)


def pages_at_scale(*, repeat: int, budget: float) -> dict:
    """Every page at every level: {level: {page: (queries, sample, bytes)}}."""
    results = {}
    present = 0
    pages = None
    for level in LEVELS:
        present = scale_to(level, present)
        pages = pages or Pages()
        results[level] = {}
        for name, (function, status) in pages.all().items():
            queries, sample, size = measure_page(function, status, repeat=repeat, budget=budget)
            results[level][name] = (queries, sample, size)
            log(f"{level:>6} agreements: {name}: {queries} queries, {sample.median * 1000:.1f} ms")
    return results
