"""Background work (issue 13): the signer's request, and the way from signature to stored PDF.

Measured as the portal runs: gunicorn as configured and one ``manage.py task_worker``
beside it, as ``make run`` and production run them, on the bench's database.

- ``signing``: for each of ``count`` submitted demo SLAs, marketing's signature and then
  the completing one of sales, each a real POST of the signing form (password, typed
  name, consent), each followed or preceded (alternating) by the trivial logged-in view
  over the same connection. Then, per completion, the time from the completing
  signature (its ``signed_at``) to the stored PDF (the ``pdf_stored`` event's
  ``created_at``), which the worker writes.
- The password check the signing form makes (PBKDF2 with Django's iterations), timed
  in this process right after each completing request, under the same load: the part
  of every signature that is slow by design.
"""

from __future__ import annotations

import http.client
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode

from .common import BENCH_ROOT, PORT, REPO, Sample, bench_environ, log


@contextmanager
def task_worker():
    """``manage.py task_worker`` with the bench's settings, for as long as the block runs."""
    log_path = BENCH_ROOT / "task_worker.log"
    log_path.unlink(missing_ok=True)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--no-reload"],
            cwd=REPO,
            env=bench_environ(),
            stdout=log_file,
            stderr=log_file,
        )
    try:
        _wait_until_polling(process, log_path)
        yield process
    finally:
        process.terminate()  # graceful: it finishes the task it runs
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_polling(process: subprocess.Popen, log_path, timeout: float = 600) -> None:
    """Return once the worker looks for tasks: the figures are of a running worker.

    Before its first task the worker recovers what earlier workers left (its start-up,
    ``agreements.tasks.recovery``). On the bench's database that means the mails of the
    thousands of agreements "Pages at scale" wrote directly, some 15 s of work that a
    signature made right then would wait for: measured before this wait, the signature →
    stored PDF figure was 14 s on a quiet machine, and the worker's start-up, not the PDF.
    """
    deadline = time.monotonic() + timeout
    while b"Starting worker" not in log_path.read_bytes():
        if process.poll() is not None:
            raise RuntimeError(f"the task worker ended ({process.returncode}): see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the task worker did not start in {timeout:.0f} s: {log_path}")
        time.sleep(0.2)


def _post(connection, path: str, fields: dict, cookie: str) -> tuple[int, float]:
    """POST a form with a CSRF token of our own (cookie and field); status and seconds."""
    token = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret
    body = urlencode({**fields, "csrfmiddlewaretoken": token})
    headers = {
        "Cookie": f"{cookie}; csrftoken={token}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{PORT}",
    }
    start = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - start


def _get(connection, path: str, cookie: str) -> float:
    start = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return time.perf_counter() - start


def _sign(connection, agreement, user, cookie: str) -> float:
    from agreements.demo import DEMO_PASSWORD

    fields = {
        "password": DEMO_PASSWORD,
        "typed_name": user.get_full_name(),
        "consent": "on",
        "content_sha256": agreement.content_sha256,
    }
    status, seconds = _post(
        connection, f"/agreements/{agreement.pk}/unterzeichnen/", fields, cookie
    )
    if status != 302:
        raise RuntimeError(f"signing agreement {agreement.pk} answered {status}, not 302")
    return seconds


def signing(count: int, cookies: dict[str, str], *, first_year: int = 2301) -> dict:
    """The signing requests against the trivial view, and signature → stored PDF."""
    from agreements.demo import DEMO_META, _create_agreement
    from agreements.enums import AuditAction, Party, Role
    from agreements.models import Agreement, Membership, Organisation
    from agreements.workflow import agreement_submit

    organisation = Organisation.objects.get(name="Muster AG")
    users = {
        Role(m.role): m.user
        for m in Membership.objects.filter(organisation=organisation).select_related("user")
    }
    submitted = [
        agreement_submit(
            agreement=_create_agreement(organisation, users, year=year),
            user=users[Role.MARKETING],
            meta=DEMO_META,
        )
        for year in range(first_year, first_year + count + 1)
    ]
    from django.contrib.auth import get_user_model

    from agreements.demo import DEMO_PASSWORD

    first, completing, ping_first, ping_completing = Sample(), Sample(), Sample(), Sample()
    password = Sample()
    checked = get_user_model().objects.get(username="sales")
    connections = {
        party: http.client.HTTPConnection("127.0.0.1", PORT, timeout=120) for party in Party
    }
    for index, agreement in enumerate(submitted):
        for party, sample, ping in (
            (Party.MARKETING, first, ping_first),
            (Party.SALES, completing, ping_completing),
        ):
            connection, cookie = connections[party], cookies[party]
            if index % 2:
                ping.values.append(_get(connection, "/bench/ping/", cookie))
            sample.values.append(_sign(connection, agreement, users[Role(party)], cookie))
            if not index % 2:
                ping.values.append(_get(connection, "/bench/ping/", cookie))
        start = time.perf_counter()
        checked.check_password(DEMO_PASSWORD)
        password.values.append(time.perf_counter() - start)
    for connection in connections.values():
        connection.close()
    # The first of each kind warmed the path (and the worker's first render): left out.
    for sample in (first, completing, ping_first, ping_completing, password):
        sample.values.pop(0)

    log("waiting for the worker to store every PDF")
    to_stored = Sample()
    deadline = time.monotonic() + 60 + 10 * count
    for agreement in submitted[1:]:
        signature = agreement.signatures.get(party=Party.SALES)
        while True:
            event = agreement.audit_events.filter(action=AuditAction.PDF_STORED).first()
            if event is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"agreement {agreement.pk}: no PDF stored by the worker")
            time.sleep(0.05)
        to_stored.values.append((event.created_at - signature.signed_at).total_seconds())
    stored = Agreement.objects.filter(pk__in=[a.pk for a in submitted]).exclude(signed_pdf="")
    return {
        "first": first,
        "completing": completing,
        "ping_first": ping_first,
        "ping_completing": ping_completing,
        "password": password,
        "to_stored": to_stored,
        "stored": stored.count(),
        "count": len(submitted),
    }
