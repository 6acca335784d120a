"""Logs as JSON lines, without passwords or document text.

Every record becomes one JSON object on one line (time, level, logger, message, and for
requests the method, path and status), which log collectors read without parsing rules.
Nothing from a request body is ever written: the log-in and sign forms carry passwords,
the wizard carries the agreement's text. Django's error reports (``mail_admins``, the
500 page's technical details) go through :class:`SafeExceptionReporterFilter`, which hides
every submitted value and every local variable for the same reason.
"""

import json
import logging
from datetime import UTC, datetime

from django.views.debug import SafeExceptionReporterFilter as DjangoReporterFilter


class RequestSummaryFilter(logging.Filter):
    """Keep a request's method and path on the record, never its body or query string.

    Django's ``django.request`` logger passes the whole request as ``record.request``;
    this filter copies the two harmless facts to plain attributes for the formatter. The
    formatter writes no other request data, so POST bodies never reach the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.http_method = getattr(request, "method", None)
            record.http_path = getattr(request, "path", None)
        return True


class RetriedTaskFilter(logging.Filter):
    """Drops the task engine's error line for an attempt that is retried.

    django-tasks logs every failed task run as an error with its traceback. An attempt
    that failed while its retry is enqueued (``agreements.tasks.engine.RetryScheduled``)
    is no error yet: the engine module logs it as a warning with its cause, and keeps
    the error for the last attempt, so that an alert on errors means work was lost.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return type(error).__name__ != "RetryScheduled"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with a fixed set of fields (no arbitrary ``extra``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, key in (
            ("http_method", "method"),
            ("http_path", "path"),
            ("status_code", "status"),
        ):
            value = getattr(record, name, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class SafeExceptionReporterFilter(DjangoReporterFilter):
    """Hide every POST value and every local variable in Django's error reports.

    Django hides only what views mark with ``sensitive_post_parameters``; here the log-in,
    password change, sign-off and the wizard all carry secrets or the agreement's content,
    so nothing submitted is shown. The traceback itself (files, lines) stays for debugging.
    """

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
