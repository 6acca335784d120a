"""Figures through a real server: gunicorn as configured in ``gunicorn.conf.py``.

gunicorn starts from the checkout with DEBUG off, a secret key, the bench's database and
collected static files, exactly as production would but on the loopback and over plain
HTTP. Requests carry the session cookie of a logged-in demo user, made in this process.

- ``first_render``: the first PDF a fresh worker renders against the next ones.
- ``downloads``: a stored signed PDF of each size, requested one after the other.
- ``streaming``: how much a worker's peak memory grows while it serves the largest PDF.
- ``load``: ``wrk`` with 64 connections for 30 s per URL, counting every status code.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import (
    BENCH_ROOT,
    PORT,
    REPO,
    Sample,
    bench_environ,
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
)


class Server:
    """gunicorn with the repository's ``gunicorn.conf.py``; ``workers`` overrides its count."""

    def __init__(self, *, workers: int | None = None, name: str = "gunicorn"):
        self.workers = workers
        self.log_path = BENCH_ROOT / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = bench_environ()
        if self.workers:
            env["WEB_CONCURRENCY"] = str(self.workers)
        self.log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log_file:
            # The working directory is the checkout, so gunicorn reads ./gunicorn.conf.py.
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "sla_portal.wsgi",
                    "--bind",
                    f"127.0.0.1:{PORT}",
                ],
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=log_file,
            )
        self._wait_until_ready()
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, ours only
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_until_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                status, _, _ = request("/accounts/login/")
            except OSError:
                status = None
            if status == 200 and self._warm_workers() >= self._expected_workers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def _expected_workers(self) -> int:
        """As gunicorn.conf.py counts them."""
        return self.workers or 2 * (os.cpu_count() or 1) + 1

    def _warm_workers(self) -> int:
        """Workers of this start that have finished their warm-up (gunicorn.conf.py logs it).

        The first answer comes from the first warm worker, while the others still load
        fonts and dictionaries on the same cores: measuring then would time the start-up.
        """
        with open(self.log_path, "rb") as log_file:
            log_file.seek(self.log_start)
            return log_file.read().count(b"Warm-up done in worker")

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]


def request(path: str, *, cookie: str = "", connection=None) -> tuple[int, int, float]:
    """GET ``path``; returns status, body size and seconds until the last byte."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    buffer = memoryview(bytearray(1024 * 1024))
    start = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    size = 0
    while count := response.readinto(buffer):
        size += count
    elapsed = time.perf_counter() - start
    if own:
        connection.close()
    return response.status, size, elapsed


def session_cookie(username: str) -> str:
    """A logged-in session of a demo user, stored in the bench database."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def first_render(path: str, cookie: str, *, runs: int) -> dict:
    """Restart a one-worker server ``runs`` times: its first PDF, then three more.

    One worker, so the first PDF request surely meets a fresh worker; the readiness
    check before it asks for the login page, which renders no PDF.
    """
    first, warm = Sample(), Sample()
    for _ in range(runs):
        with Server(workers=1, name="gunicorn-first-render"):
            for index in range(4):
                status, _, elapsed = request(path, cookie=cookie)
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status}")
                (first if index == 0 else warm).values.append(elapsed)
    return {"first": first, "warm": warm}


def downloads(targets: dict[str, str], cookie: str, *, repeat: int) -> dict:
    """Each PDF download ``repeat`` times over one keep-alive connection: label -> Sample."""
    results = {}
    for label, path in targets.items():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        sample = Sample()
        size = 0
        for index in range(repeat + 1):
            status, size, elapsed = request(path, cookie=cookie, connection=connection)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            if index:  # the first one warms the connection and the page cache
                sample.values.append(elapsed)
        connection.close()
        results[label] = (sample, size)
    return results


def streaming(path: str, small_path: str, cookie: str, *, repeat: int = 5) -> dict:
    """Peak RSS growth of a worker while it serves the PDF at ``path`` ``repeat`` times.

    One worker, warmed first with the small PDF at ``small_path``: a worker's first
    request loads code and caches (some 25 MB, whatever it serves), which is not what
    this asks. What remains is what serving the large file costs in memory.
    """
    with Server(workers=1, name="gunicorn-streaming") as running:
        (pid,) = running.worker_pids()
        for _ in range(3):
            request(small_path, cookie=cookie)
        before = rss_bytes(pid)
        reset_peak_rss(pid)
        size = 0
        for _ in range(repeat):
            status, size, _ = request(path, cookie=cookie)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
        growth = peak_rss_bytes(pid) - before
    return {"size": size, "growth": growth, "rss": before}


def sha256_time(path: str, *, repeat: int) -> Sample:
    """How long the download's integrity check alone takes: SHA-256 over the file in chunks."""
    import hashlib

    from agreements.archive import CHUNK_SIZE

    sample = Sample()
    for _ in range(repeat + 1):
        start = time.perf_counter()
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK_SIZE):
                digest.update(chunk)
        sample.values.append(time.perf_counter() - start)
    sample.values.pop(0)  # the first read may come from the disk, later ones from memory
    return sample


WRK_SCRIPT = r"""
-- Counts every status code over all threads; prints one line for bench/server.py.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(total) do table.insert(parts, code .. "=" .. count) end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p99_us=%d statuses=%s\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(parts, ",")))
end
"""


def load(path: str, cookie: str, *, connections: int, seconds: int, threads: int = 2) -> dict:
    """``wrk`` against one URL; requests per second, errors and status counts."""
    threads = min(threads, connections)  # wrk needs a connection per thread
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        output = subprocess.run(
            [
                "wrk",
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={seconds}s",
                "--timeout=10s",
                f"--script={script.name}",
                f"--header=Cookie: {cookie}",
                f"http://127.0.0.1:{PORT}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    values = dict(re.findall(r"(\w+)=(\S*)", line))
    statuses = (
        {
            int(code): int(count)
            for code, count in (
                item.split("=") for item in values.pop("statuses").split(",") if item
            )
        }
        if "statuses" in values
        else {}
    )
    numbers = {key: int(value) for key, value in values.items()}
    requests = numbers["requests"]
    return {
        "requests": requests,
        "rps": requests / (numbers["duration_us"] / 1e6),
        "not_2xx": sum(count for code, count in statuses.items() if not 200 <= code < 300),
        "socket_errors": sum(numbers[key] for key in ("connect", "read", "write", "timeout")),
        "statuses": statuses,
        "p50": numbers["p50_us"] / 1e6,
        "p99": numbers["p99_us"] / 1e6,
    }
