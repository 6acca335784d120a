"""The "Verlauf" page at scale (issue 21): as many queries with 500 saves and 200 comments
as with 5, and how its time grows.

Usage (by hand, needs PostgreSQL on 127.0.0.1:5432 as ``make bench``)::

    SLA_BENCH_DB=sla_bench_history SLA_BENCH_DIR=/tmp/sla-bench-history \
        .venv/bin/python -m bench.history [--quick]

Builds a fresh bench database with the demo data (``bench.setup.prepare``), then for each
level a new draft of the Muster AG with N saves of the «Zielsetzungen & Metriken» step
(each a real hash-chained audit event with its field change, written by
``audit.audit_record``) and M comments in M/4 threads; requests its history page as the
management user through Django's test client (DEBUG off, full middleware) and counts
the SQL queries. Replaces its section of bench/results.md (between the markers below);
``make bench`` keeps it. Drops the database at the end. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, Sample, django_setup, log

BEGIN = "<!-- history page: bench/history.py -->"
END = "<!-- end of history page -->"
LEVELS = ((5, 5), (50, 20), (500, 200), (2_000, 800))
QUICK_LEVELS = ((5, 5), (500, 200))


def build(saves: int, comments: int):
    """A draft of the demo organisation with ``saves`` saved changes and ``comments``."""
    from django.db import transaction
    from django.utils import timezone

    from agreements.audit import RequestMeta, audit_record
    from agreements.enums import AuditAction, Role
    from agreements.models import Agreement, Membership, Organisation
    from agreements.negotiation.models import Comment, Thread

    organisation = Organisation.objects.get(name="Muster AG")
    people = {m.role: m.user for m in Membership.objects.filter(organisation=organisation)}
    agreement = Agreement.objects.create(organisation=organisation)
    with transaction.atomic():
        for n in range(saves):
            audit_record(
                agreement=agreement,
                action=AuditAction.STEP_SAVED,
                actor=people[Role.MARKETING if n % 2 else Role.SALES],
                meta=RequestMeta(),
                details={
                    "step": "ziele",
                    "revision": n + 2,
                    "fields": ["sql_target", "response_time_hours"],
                    "changes": [
                        {"field": "sql_target", "old": 60 + n, "new": 61 + n},
                        {"field": "response_time_hours", "old": 24, "new": 48},
                    ],
                },
            )
    threads = Thread.objects.bulk_create(
        Thread(agreement=agreement, section=str(1 + n % 11), created_at=timezone.now())
        for n in range(max(1, comments // 4))
    )
    Comment.objects.bulk_create(
        Comment(
            thread=threads[n % len(threads)],
            author=people[Role.SALES],
            author_name="Marco Brunner",
            body=f"Kommentar {n}: 70 SQL pro Quartal?\nBitte prüfen.",
            created_at=timezone.now(),
        )
        for n in range(comments)
    )
    return agreement, people[Role.MANAGEMENT]


def measure(levels, repeat: int) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    rows = []
    for saves, comments in levels:
        agreement, reader = build(saves, comments)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(reader)
        url = reverse("agreement_history", args=[agreement.pk])
        client.get(url)  # warm: session, templates, translations
        sample = Sample()
        queries = set()
        size = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                sample.values.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"history page answered {response.status_code}")
            queries.add(len(captured))
            size = len(response.content)
        rows.append(
            {
                "saves": saves,
                "comments": comments,
                "queries": sorted(queries),
                "sample": sample,
                "kb": size / 1024,
            }
        )
        log(f"history {saves}/{comments}: {sorted(queries)} queries, {sample.median * 1000:.1f} ms")
    return rows


def section(rows: list[dict], when: str) -> str:
    from django.db import connection

    lines = [
        BEGIN,
        "## History page at scale (issue 21, bench/history.py)",
        "",
        f"Run: {when}, {connection.vendor} ({connection.settings_dict['NAME']}), load average "
        f"before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}. The «Verlauf» of a draft "
        "with N saves of a step (each a hash-chained audit event with two field changes) and "
        "M comments in M/4 threads, requested by management through Django's test client, "
        "DEBUG off. Median (min–max, n).",
        "",
        "| Saves | Comments | Queries | Time | Page |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        sample = row["sample"]
        lines.append(
            f"| {swiss(row['saves'])} | {swiss(row['comments'])} "
            f"| {'/'.join(map(str, row['queries']))} "
            f"| {sample.median * 1000:.1f} ms ({sample.low * 1000:.1f}–{sample.high * 1000:.1f},"
            f" n={len(sample.values)}) | {row['kb']:.0f} KB |"
        )
    flat = len({tuple(row["queries"]) for row in rows}) == 1
    lines += [
        "",
        "Queries flat across the levels: " + ("yes." if flat else "**NO**."),
        "The changes come in pages of 100 (`HISTORY_PAGE_SIZE`; the first page is measured); "
        "every comment is shown. The time still grows with the events the page reads and "
        "the comments it shows: the queries do not.",
        END,
        "",
    ]
    return "\n".join(lines)


def swiss(number: int) -> str:
    return f"{number:,}".replace(",", "’")


def with_section(text: str, new_section: str) -> str:
    """``text`` with this script's section replaced, or added at the end."""
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        end = text.index(END) + len(END) + 1
        return text[:start] + new_section + text[end:]
    return text.rstrip("\n") + "\n\n" + new_section


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results.md")
    options = parser.parse_args(argv)
    django_setup()
    from bench import setup

    setup.prepare()
    try:
        rows = measure(QUICK_LEVELS if options.quick else LEVELS, 3 if options.quick else 15)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime())
        text = section(rows, when)
    finally:
        setup.teardown()
    before = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
    options.output.write_text(with_section(before, text), encoding="utf-8")
    log(f"written {options.output}")
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
