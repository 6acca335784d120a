"""gunicorn's production settings; ``gunicorn sla_portal.wsgi`` reads this file from the
working directory (the checkout). Command-line options such as ``--bind`` override it.

Sized by the machine's cores: 2 × cores + 1 worker processes (5 on 2 cores), each serving
one request at a time (gunicorn's default sync worker). Rendering a page or a PDF is CPU
work that holds Python's GIL, so processes run them in parallel where threads would
queue; on the bench (bench/, issue 7) 5 sync workers served more than 3 workers with
4 threads each. The TLS-terminating reverse proxy in front buffers slow clients, so a
slow download never holds a worker for long. Each worker keeps one database connection.
"""

import multiprocessing
import os
import time

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
# The slowest request is a draft's PDF preview: about a second, a few with a 10 MB
# framework document inside. (The signed PDF is made by a task worker, not in a request.)
timeout = 60
graceful_timeout = 30
# Each worker is replaced after about 1'000 requests (the jitter keeps them from
# restarting together): whatever a worker's memory grew by (a fragmented heap after
# large PDFs, a library's cache) is given back. Uploaded PDFs are parsed in a child
# process of their own (agreements.sandbox), so they never grow the worker itself.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 1000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 100))
# Access logs belong to the reverse proxy; gunicorn logs errors to standard error.
accesslog = None
errorlog = "-"


def post_worker_init(worker):
    """Warm the worker before it takes its first request.

    Otherwise the first user to reach it after a (re)start waits for what Django and the
    PDF load on first use: the URLconf with every view module and what they import
    (pyHanko among them, some 0.3 s), the hyphenation dictionary and the fonts (a
    second). A failure here is logged and does not stop the worker: the request itself
    reports the same problem to the user.
    """
    start = time.perf_counter()
    try:
        from django.urls import get_resolver

        from agreements.pdf import pdf_warm_up

        get_resolver().url_patterns  # noqa: B018  (imports the views)
        pdf_warm_up()
    except Exception:
        worker.log.exception("Warm-up failed in worker %s", worker.pid)
    else:
        worker.log.info(
            "Warm-up done in worker %s (%.1f s)", worker.pid, time.perf_counter() - start
        )
