"""Do the portal's two caches earn their place? (issue 17)

Usage: ``.venv/bin/python -m bench.caches [--agreements N] [--repeat N]``

1. The dashboard's kept list (``views.lists``): the rendered list of a user's
   organisations, kept under a key of their ``updated_at`` stamps, which ``signals.py``
   moves and the written-out memberships query reads. Measured: the dashboard at
   ``--agreements`` agreements (default 10'000, as bench/pages.py) with the list found in
   the cache, against the same request with a cache that keeps nothing (Django's
   ``DummyCache``): every request renders the list.
2. The seal's signer, kept per process (``seal._load_signer``). Measured: ``seal_pdf`` of
   the signed demo's rendered PDF with the signer kept, against the same with the kept
   signer dropped before each seal (loaded again each time).

Each pair is measured alternately, one right after the other, so that other work on the
machine slows both sides alike; the ratio is the median of the pairs' ratios. Runs on its
own database (``SLA_BENCH_DB``, default ``sla_bench_caches``), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("SLA_BENCH_DB", "sla_bench_caches")
os.environ.setdefault("SLA_BENCH_DIR", "/tmp/sla-bench-caches")

from bench import pages, setup
from bench.common import django_setup, log, measured_in_pairs


def paired(a, b, *, repeat: int) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` in pairs, ``repeat`` times each, after one warm-up each."""
    a(), b()
    sample_a, sample_b = measured_in_pairs(a, b, repeat)
    return sample_a.values, sample_b.values


def summary(times_a, times_b) -> str:
    ms = lambda values: statistics.median(values) * 1000  # noqa: E731
    ratio = statistics.median(b / a for a, b in zip(times_a, times_b, strict=True))
    return (
        f"kept {ms(times_a):.1f} ms (min {min(times_a) * 1000:.1f}), "
        f"not kept {ms(times_b):.1f} ms (min {min(times_b) * 1000:.1f}), "
        f"not kept / kept = {ratio:.2f}x, n={len(times_a)}"
    )


def dashboard(repeat: int) -> str:
    from django.test import override_settings

    page = pages.Pages()

    def kept():
        response = page.dashboard()
        if response.status_code != 200:
            raise RuntimeError(f"dashboard: HTTP {response.status_code}")

    def not_kept():
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        ):
            response = page.dashboard()
        if response.status_code != 200:
            raise RuntimeError(f"dashboard: HTTP {response.status_code}")

    return summary(*paired(kept, not_kept, repeat=repeat))


def seal_signer(repeat: int) -> str:
    from agreements import seal
    from agreements.archive import signed_render_inputs
    from agreements.demo import signed_demo_agreement
    from agreements.pdf import render_agreement_pdf

    agreement = signed_demo_agreement()
    pdf = render_agreement_pdf(agreement, **signed_render_inputs(agreement))

    def kept():
        seal.seal_pdf(pdf)

    def not_kept():
        seal._signers.clear()
        seal.seal_pdf(pdf)

    return summary(*paired(kept, not_kept, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    django_setup()
    setup.prepare()
    try:
        pages.scale_to(args.agreements, 0)
        log(f"dashboard at {args.agreements} agreements: {dashboard(args.repeat)}")
        log(f"seal of the signed demo SLA: {seal_signer(max(5, args.repeat // 3))}")
    finally:
        setup.teardown()


if __name__ == "__main__":
    main()
