"""Who is knocking: the client's address, the one function everything reads it through.

Behind the reverse proxy every request reaches gunicorn from 127.0.0.1. The proxy appends
the address it saw to X-Forwarded-For; entries further left were written by the client
and may be lies. The log-in throttle (django-axes, ``AXES_CLIENT_IP_CALLABLE``), the
signatures and the audit events (``agreements.audit.RequestMeta``) all take the address
from here, so a signature records the signer's address, not the proxy's, and nobody
dodges the throttle with a header of their own.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the client's address: the one our own proxies recorded, never a client's claim.

    With ``SLA_TRUSTED_PROXIES = n`` (``DJANGO_TRUSTED_PROXIES``) the n-th entry from the
    right of X-Forwarded-For is the address the outermost trusted proxy saw; with 0, or
    too few entries, REMOTE_ADDR.
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
