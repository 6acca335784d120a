"""Logs are JSON lines and never carry a password or the agreement's text (issue 6, item 5)."""

import io
import json
import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from sla_portal.logging import JsonFormatter, RequestSummaryFilter

PASSWORD = "Geheim-Passwort-4711"
DOCUMENT_TEXT = "Sales bearbeitet jeden Lead innert 48 Stunden"


def sign_post():
    """A sign-off POST as the browser sends it: the password again, the typed name."""
    return RequestFactory().post(
        "/agreements/1/unterzeichnen/",
        {"password": PASSWORD, "typed_name": "Anna Keller", "goal": DOCUMENT_TEXT},
    )


def configured_handler():
    """The console handler settings.LOGGING installs on the root logger (pytest adds its own)."""
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
                  and isinstance(h.formatter, JsonFormatter)]  # fmt: skip
    return handler


def test_the_root_handler_writes_json_through_the_request_filter():
    handler = configured_handler()

    assert any(isinstance(f, RequestSummaryFilter) for f in handler.filters)


def test_an_error_during_a_sign_post_is_logged_without_the_password_or_text():
    handler = configured_handler()
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(handler.formatter)
    for log_filter in handler.filters:
        capture.addFilter(log_filter)
    logger = logging.getLogger("django.request")
    logger.addHandler(capture)
    request = sign_post()
    try:
        try:
            raise RuntimeError("the seal failed")
        except RuntimeError:
            # What Django's handler logs for a 500, with the request attached.
            logger.error(
                "Internal Server Error: %s",
                request.path,
                exc_info=True,
                extra={"status_code": 500, "request": request},
            )
    finally:
        logger.removeHandler(capture)

    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["method"] == "POST"
    assert entry["path"] == "/agreements/1/unterzeichnen/"
    assert entry["status"] == 500
    assert "RuntimeError: the seal failed" in entry["exception"]
    assert PASSWORD not in line
    assert DOCUMENT_TEXT not in line


def test_error_reports_hide_every_submitted_value_and_local_variable(settings):
    settings.DEBUG = False
    request = sign_post()
    password = PASSWORD  # a local variable in the failing frame, as in a form's clean()
    try:
        raise ValueError(f"check failed after {len(password)} characters")
    except ValueError:
        report = ExceptionReporter(request, *sys.exc_info())

    text = report.get_traceback_text()
    html = report.get_traceback_html()

    assert "check failed" in text
    for secret in (PASSWORD, DOCUMENT_TEXT):
        assert secret not in text
        assert secret not in html
