"""The sandbox that parses uploaded PDFs: a child process with capped memory and CPU time."""

import os

import pytest

from agreements.sandbox import LimitExceeded, run_capped

MB = 1024 * 1024


def spin() -> None:
    while True:
        pass


def test_the_childs_answer_comes_back(settings):
    assert run_capped(sum, [1, 2, 3]) == 6


def test_the_child_is_another_process():
    assert run_capped(os.getpid) != os.getpid()


def test_more_memory_than_the_cap_is_refused(settings):
    settings.SLA_PDF_PARSE_MEMORY_MB = 16

    with pytest.raises(LimitExceeded):
        run_capped(bytearray, 64 * MB)


def test_memory_within_the_cap_is_fine(settings):
    settings.SLA_PDF_PARSE_MEMORY_MB = 64

    assert run_capped(len, bytearray(1 * MB)) == MB
    assert run_capped(lambda: len(bytearray(16 * MB))) == 16 * MB


def test_more_cpu_time_than_the_cap_is_refused(settings):
    settings.SLA_PDF_PARSE_CPU_SECONDS = 1

    with pytest.raises(LimitExceeded):
        run_capped(spin)


def test_an_exception_in_the_child_is_a_refusal():
    with pytest.raises(LimitExceeded, match="ZeroDivisionError"):
        run_capped(divmod, 1, 0)
