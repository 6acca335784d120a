"""What every part of the bench shares: its private environment, statistics, memory.

The bench runs against its own PostgreSQL database (``sla_bench``) and its own directories
under /tmp, with DEBUG off as in production: nothing touches the developers' ``var/``,
their database or the test database of CI.
"""

from __future__ import annotations

import gc
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_ROOT = Path(os.environ.get("SLA_BENCH_DIR", "/tmp/sla-bench"))
DB_NAME = os.environ.get("SLA_BENCH_DB", "sla_bench")  # another name beside a running bench
DB_SERVER = os.environ.get("SLA_BENCH_DB_SERVER", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("SLA_BENCH_PORT", "8765"))
BASE_URL = f"http://127.0.0.1:{PORT}"

# The environment of the bench process and of every process it starts (gunicorn, the cold
# start and memory probes). Production-like: DEBUG off, a secret key, secure cookies;
# only the SSL redirect is off because the server listens on plain HTTP on the loopback.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DATABASE_URL": f"{DB_SERVER}/{DB_NAME}",
    "SLA_VAR_DIR": str(BENCH_ROOT / "var"),
    "DJANGO_MEDIA_ROOT": str(BENCH_ROOT / "media"),
    "DJANGO_STATIC_ROOT": str(BENCH_ROOT / "static"),
    "SLA_SITE_URL": BASE_URL,
    "DJANGO_LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(REPO),
}
# A developer's own seal or timestamp server must not leak in: a timestamp is a network
# round trip, and the bench seals with its own development certificate.
UNSET = (
    "SLA_SEAL_PKCS12_FILE",
    "SLA_SEAL_KEY_FILE",
    "SLA_SEAL_CERT_FILE",
    "SLA_SEAL_PASSPHRASE",
    "SLA_SEAL_PASSPHRASE_FILE",
    "SLA_SEAL_TIMESTAMP_URL",
    "DJANGO_SECRET_KEY_FILE",
    "EMAIL_HOST",
)


def bench_environ() -> dict[str, str]:
    """The environment for this process and its children; the secret is made once."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(BENCH_ENV)
    env.setdefault("DJANGO_SECRET_KEY", os.environ.get("SLA_BENCH_SECRET") or "")
    if not env["DJANGO_SECRET_KEY"]:
        env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["SLA_BENCH_SECRET"] = env["DJANGO_SECRET_KEY"]
    return env


def django_setup() -> None:
    """Set up Django with the bench's environment in this process."""
    for key in UNSET:
        os.environ.pop(key, None)
    os.environ.update(bench_environ())
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


@dataclass
class Sample:
    """Repeated measurements of one figure, in seconds (or any unit, see ``unit``)."""

    values: list[float] = field(default_factory=list)
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def iqr(self) -> tuple[float, float]:
        if len(self.values) < 4:
            return self.low, self.high
        q1, _, q3 = statistics.quantiles(self.values, n=4, method="inclusive")
        return q1, q3

    def __len__(self) -> int:
        return len(self.values)


def timed(function: Callable[[], object], repeat: int, *, warmup: int = 1) -> Sample:
    """Run ``function`` ``warmup`` times unmeasured, then ``repeat`` times measured."""
    for _ in range(warmup):
        function()
    sample = Sample()
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        sample.values.append(time.perf_counter() - start)
    return sample


def rss_bytes(pid: int | str = "self") -> int:
    """The resident set size of a process now (Linux /proc)."""
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int | str = "self") -> int:
    """The highest resident set size the process has had (Linux /proc, VmHWM)."""
    return _status_kb(pid, "VmHWM") * 1024


def reset_peak_rss(pid: int | str = "self") -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _status_kb(pid, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/{pid}/status")


def log(message: str) -> None:
    """Progress on standard error; the results go to bench/results.md."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measured_in_pairs(ours, bare, repeat: int) -> tuple[Sample, Sample]:
    """``repeat`` timings of each, one right after the other.

    Which side goes first alternates, so that a trend in the machine's load favours
    neither. Each call starts from an empty garbage collector: otherwise Python's full
    collections (some 40 ms here, a cost of every object the process holds, Django's
    included) fall on whichever side happens to cross the collector's threshold, and
    always the same one when the pattern repeats. The goals report measured 1.40× its
    untagged write that way and 1.06× with this, on the same quiet machine (issue 16).
    The collections a call's own garbage causes while it runs still count.
    """
    ours_sample, bare_sample = Sample(), Sample()
    pair = ((ours, ours_sample), (bare, bare_sample))
    for index in range(repeat):
        for function, sample in pair if index % 2 == 0 else pair[::-1]:
            gc.collect()
            start = time.perf_counter()
            function()
            sample.values.append(time.perf_counter() - start)
    return ours_sample, bare_sample
