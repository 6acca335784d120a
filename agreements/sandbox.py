"""Parsing what someone uploaded in a child process whose memory and CPU time are capped.

A PDF is a program for its parser: a 10 MB file whose catalog holds an array of five
million integers made pyHanko build a gigabyte of Python objects for 19 seconds, and the
gunicorn worker kept the memory afterwards. The framework document's check
(``agreements.uploads``) and the verify page's (``agreements.evidence``) therefore run
in a child forked for the one file: its address space may grow by
``SLA_PDF_PARSE_MEMORY_MB`` beyond the worker's, it may use ``SLA_PDF_PARSE_CPU_SECONDS``
of CPU (``resource.setrlimit``), and the worker waits at most three times that plus a
few seconds (35 s by default, within gunicorn's timeout of 60). Whatever the child
allocated is gone when it exits.

Forked, not spawned: the child starts in milliseconds with pyHanko already imported,
where a fresh interpreter would load Django and pyHanko anew for every upload (about a
second). gunicorn's sync workers are single-threaded, which makes forking safe. The
child never touches the database and leaves through ``os._exit`` (multiprocessing's
way), so the worker's connection, which it inherits, is never closed by it.
"""

from __future__ import annotations

import multiprocessing
import os
import resource

from django.conf import settings

# How long the worker waits for the child, in multiples of its CPU budget plus seconds:
# the kernel stops a child that computes too long (RLIMIT_CPU); this stops one that
# waits, and leaves room for a busy machine, where a second of CPU may take several.
WALL_CLOCK_FACTOR = 3
WALL_CLOCK_MARGIN = 5


class LimitExceeded(Exception):
    """The child ran out of memory or time, or died: the input is refused as too complex."""


def run_capped(function, *args):
    """``function(*args)`` in a child under the caps; its return value (picklable).

    Raises ``LimitExceeded`` when the child exceeds its memory or CPU time, takes too
    long, or ends without an answer; an exception ``function`` raises likewise.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, function, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(wall_clock_seconds()):
            raise LimitExceeded("no answer in time")
        outcome, value = receive.recv()
    except EOFError:
        # Killed by the kernel: SIGXCPU at the CPU limit, or an allocation that failed
        # outside Python's reach.
        raise LimitExceeded("the child died") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if outcome != "ok":
        raise LimitExceeded(value)
    return value


def wall_clock_seconds() -> int:
    """The longest the worker waits for a child's answer."""
    return WALL_CLOCK_FACTOR * settings.SLA_PDF_PARSE_CPU_SECONDS + WALL_CLOCK_MARGIN


def _child(send, function, args) -> None:
    _limit_resources()
    try:
        result = ("ok", function(*args))
    except MemoryError:
        result = ("memory", "memory limit")
    except BaseException as error:  # the parent refuses the input, whatever went wrong
        result = ("error", type(error).__name__)
    send.send(result)
    send.close()


def _limit_resources() -> None:
    cpu = settings.SLA_PDF_PARSE_CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    size = _address_space_bytes()
    if size is not None:
        limit = size + settings.SLA_PDF_PARSE_MEMORY_MB * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space_bytes() -> int | None:
    """The forked child's virtual size now: the worker's, inherited (Linux's /proc)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
