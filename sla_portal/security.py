"""Who is knocking: the client's address as the log-in throttle (django-axes) sees it.

Behind the reverse proxy every request reaches gunicorn from 127.0.0.1, so throttling by
REMOTE_ADDR would lock out the whole company at once. The proxy appends the address it
saw to X-Forwarded-For; entries further left were written by the client and may be lies.
"""

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """Return the client's address: the one our own proxies recorded, never a client's claim.

    With ``SLA_TRUSTED_PROXIES = n`` the n-th entry from the right of X-Forwarded-For is
    the address the outermost trusted proxy saw; with 0, or too few entries, REMOTE_ADDR.
    """
    proxies = settings.SLA_TRUSTED_PROXIES
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The name django-axes counts a log-in attempt under: what was typed, in lower case.

    allauth authenticates with ``username`` (and ``email`` when an address was typed);
    the sign and password forms pass the account's user name. Lower case, because allauth
    finds accounts regardless of case: "Anna" and "anna" are one account to throttle.
    """
    credentials = credentials or {}
    data = getattr(request, "POST", {}) if request is not None else {}
    typed = (
        credentials.get("username")
        or credentials.get("email")
        or data.get("login")
        or data.get("username")
        or ""
    )
    return str(typed).strip().lower()


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The German page a locked-out log-in gets (429), saying how long the lockout lasts.

    django-axes calls this instead of its own English one-liner.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/lockout.html", {"cooloff_minutes": minutes}, status=429)
