"""``make bench``: measure the portal against its cost floors and write bench/results.md.

Usage: ``.venv/bin/python -m bench.run [--quick] [--output bench/results.md]``

Runs every figure of issue 7 once, in this order: a fresh ``sla_bench`` database with the
demo data; the pages at 10, 1'000 and 10'000 agreements; then, on the grown database, the
PDF (our render against WeasyPrint alone, the seal, completion, the first render in a
fresh process, memory over 200 renders) and gunicorn (first render after a worker
starts, downloads of stored signed PDFs up to 20 MB, streaming, 64 clients under ``wrk``);
last, with a task worker beside gunicorn, the signing requests and the time from the
completing signature to the stored PDF (issue 13, ``bench/tasks.py``).
The database is dropped at the end. Nothing here asserts: the table says what held and
what did not.
``--quick`` uses few repetitions, to check the suite itself, not the portal.
``--only tasks`` measures the last part alone (a few minutes) and replaces its section of
the existing results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/run.py): find the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pages, pdf, report, server, setup, tasks
from bench.common import BENCH_ROOT, REPO, Sample, bench_environ, django_setup, log

FULL = {
    "render_pairs": 16,
    "completions": 10,
    "fresh_processes": 3,
    "server_restarts": 5,
    "memory_renders": 200,
    "page_repeat": 20,
    "page_budget": 4.0,
    "downloads": 20,
    "load_seconds": 30,
    "signings": 10,
}
QUICK = {
    "render_pairs": 3,
    "completions": 2,
    "fresh_processes": 1,
    "server_restarts": 1,
    "memory_renders": 25,
    "page_repeat": 3,
    "page_budget": 1.0,
    "downloads": 3,
    "load_seconds": 3,
    "signings": 2,
}
LOAD_CONNECTIONS = 64
# Signed PDFs for the download figure, made through the workflow: label -> size in bytes
# (0: a demo SLA as it is, without a framework document).
DOWNLOAD_SIZES = {"demo SLA": 0, "2 MB": 2_000_000, "20 MB": 20_000_000}


def probe(*args: str) -> dict:
    """Run ``python -m bench.pdf ARGS`` in a fresh process; its JSON answer."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.pdf", *args],
        cwd=REPO,
        env=bench_environ(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(reps: dict) -> dict:
    from django.db import connections

    from agreements.demo import signed_demo_agreement
    from agreements.models import Agreement

    results: dict = {"reps": reps, "load_before": load_average(), "started": time.time()}
    setup.prepare()
    results["machine"] = report.machine()
    demo = signed_demo_agreement()

    log("pages at scale")
    results["pages"] = pages.pages_at_scale(repeat=reps["page_repeat"], budget=reps["page_budget"])

    log("PDF: our render against WeasyPrint alone")
    results["render"] = pdf.render_vs_bare(demo, reps["render_pairs"])
    log("PDF: our seal against pyHanko alone")
    results["seal"] = pdf.seal_vs_bare(demo, reps["render_pairs"])
    log("PDF: completion against render + seal")
    results["completion"] = pdf.completion(reps["completions"])
    results["tagging"] = tagging(reps)
    log("PDF: first render in a fresh process")
    first, warm = Sample(), Sample()
    for _ in range(reps["fresh_processes"]):
        answer = probe("first-render")
        first.values.append(answer["first"])
        warm.values.extend(answer["warm"])
    results["fresh_process"] = {"first": first, "warm": warm}
    log(f"PDF: memory over {reps['memory_renders']} renders in one process")
    results["memory"] = probe("memory", str(reps["memory_renders"]))

    log("signed PDFs for the downloads")
    targets, sizes, sizes_path = {}, {}, {}
    # A copy of the demo SLA signed in the completion figure: the demo's own trail stays
    # as it is for the agreement page under load.
    demo_copy = Agreement.objects.get(start_date__year=2102)
    for year, (label, size) in enumerate(DOWNLOAD_SIZES.items(), start=2151):
        agreement = pdf.signed_agreement_with_attachment(size, year=year) if size else demo_copy
        targets[label] = f"/agreements/{agreement.pk}/pdf/"
        sizes[label] = agreement.signed_pdf.size
        sizes_path[label] = agreement.signed_pdf.path
    # The load test downloads a PDF of its own, so that its thousands of download events
    # land in a trail that no other figure reads (the agreement page measures the demo's).
    load_pdf = Agreement.objects.filter(start_date__year=2101).get()
    draft = Agreement.objects.get(organisation=demo.organisation, start_date__year=2027)
    cookie = server.session_cookie("marketing")
    connections.close_all()  # gunicorn's workers are the database's clients from here on

    # The same bytes as static files, which WhiteNoise serves without session or checks:
    # what moving the file alone costs through the same server (it finds them at start).
    static_copies = {}
    for label, path in sizes_path.items():
        name = f"bench-download/{label.replace(' ', '-')}.pdf"
        copy = BENCH_ROOT / "static" / name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copy)
        static_copies[label] = f"/static/{name}"

    log("server: first render after a worker starts")
    results["server_first_render"] = server.first_render(
        f"/agreements/{draft.pk}/pdf/", cookie, runs=reps["server_restarts"]
    )
    log("server: streaming")
    results["streaming"] = server.streaming(targets["20 MB"], targets["demo SLA"], cookie)
    with server.Server() as running:
        results["workers"] = len(running.worker_pids())
        log("server: downloads")
        results["downloads"] = server.downloads(targets, cookie, repeat=reps["downloads"])
        # The same way, the cheapest logged-in request: what any download costs at least.
        results["download_ping"] = server.downloads(
            {"ping": "/bench/ping/"}, cookie, repeat=reps["downloads"]
        )["ping"][0]
        results["download_static"] = {
            label: sample
            for label, (sample, _) in server.downloads(
                static_copies, "", repeat=reps["downloads"]
            ).items()
        }
        results["download_sizes"] = sizes
        results["sha256_20mb"] = server.sha256_time(sizes_path["20 MB"], repeat=5)
        load_urls = {
            "trivial logged-in view (bench only)": "/bench/ping/",
            "empty page in the portal's layout (bench only)": "/bench/page/",
            "dashboard": "/",
            "agreement page": f"/agreements/{demo.pk}/",
            "download (demo-sized PDF)": f"/agreements/{load_pdf.pk}/pdf/",
        }
        results["load"] = {}
        for label, path in load_urls.items():
            log(f"server: {LOAD_CONNECTIONS} clients for {reps['load_seconds']} s on {label}")
            results["load"][label] = server.load(
                path, cookie, connections=LOAD_CONNECTIONS, seconds=reps["load_seconds"]
            )
        # What the download test left behind: one agreement with a very long trail.
        _, size, elapsed = server.request(f"/agreements/{load_pdf.pk}/", cookie=cookie)
        events = load_pdf.audit_events.count()
        results["long_trail"] = {"events": events, "seconds": elapsed, "bytes": size}

    results.update(background_work(reps))
    results["load_after"] = load_average()
    results["seconds"] = time.time() - results["started"]
    return results


def tagging(reps: dict) -> dict:
    """Issue 16: the tagged PDF against the untagged one, in pairs (bench.pdf)."""
    from agreements.attainment import goal_report
    from agreements.demo import signed_demo_agreement
    from agreements.models import PeriodActuals

    demo = signed_demo_agreement()
    goals = goal_report(demo, PeriodActuals.objects.filter(agreement=demo))
    log("PDF: tagged PDF/A-3a against untagged PDF/A-3b")
    return pdf.tagged_vs_untagged(demo, goals, reps["render_pairs"])


def background_work(reps: dict) -> dict:
    """The signing requests and signature → stored PDF, with a task worker (issue 13)."""
    from django.db import connections

    from agreements.enums import Party

    cookies = {party: server.session_cookie(party.value) for party in Party}
    connections.close_all()
    log(f"background work: {reps['signings']} signings through gunicorn, a task worker beside")
    with server.Server(), tasks.task_worker():
        return {"signing": tasks.signing(reps["signings"], cookies)}


def run_tasks_only(reps: dict) -> dict:
    results: dict = {"reps": reps, "load_before": load_average(), "started": time.time()}
    setup.prepare()
    results.update(background_work(reps))
    results["load_after"] = load_average()
    results["seconds"] = time.time() - results["started"]
    return results


def run_tagging_only(reps: dict) -> dict:
    results: dict = {"reps": reps, "load_before": load_average(), "started": time.time()}
    setup.prepare()
    results["tagging"] = tagging(reps)
    results["load_after"] = load_average()
    results["seconds"] = time.time() - results["started"]
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (checks the suite)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results.md")
    parser.add_argument("--keep-db", action="store_true", help="do not drop sla_bench afterwards")
    parser.add_argument(
        "--only",
        choices=["tasks", "tagging"],
        help="measure only this part; replace its section",
    )
    options = parser.parse_args(argv)
    if options.only is None and shutil.which("wrk") is None:
        parser.error("the figures under load need wrk (Debian: apt-get install wrk)")

    django_setup()
    reps = QUICK if options.quick else FULL
    try:
        only = {"tasks": run_tasks_only, "tagging": run_tagging_only}.get(options.only, run)
        results = only(reps)
    finally:
        if not options.keep_db:
            setup.teardown()
    if options.only:
        before = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
        text = (
            report.with_tasks_section(before, results)
            if options.only == "tasks"
            else report.with_tagging_section(before, results)
        )
    else:
        before = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
        # The sections of the scripts run on their own (history, caches) stay.
        text = report.markdown(results) + report.kept_sections(before)
    options.output.write_text(text, encoding="utf-8")
    written = options.output.resolve()
    shown = written.relative_to(REPO) if written.is_relative_to(REPO) else written
    log(f"written {shown} ({results['seconds'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
