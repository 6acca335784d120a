"""System checks of the portal's own settings, run by ``manage.py check --deploy``."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this machine (localhost, a loopback or unspecified address)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@register(Tags.security, deploy=True)
def check_site_url(app_configs=None, **kwargs):
    """SLA_SITE_URL is the address printed in every signed PDF (its verify link) and mail.

    A PDF sealed with http://127.0.0.1:8000 in it sends every reader to their own machine,
    for as long as the document is kept: production must name its public address.
    """
    if settings.DEBUG:
        return []
    url = urlsplit(settings.SLA_SITE_URL)
    if not url.hostname or is_local_host(url.hostname):
        return [
            Error(
                f"SLA_SITE_URL ({settings.SLA_SITE_URL}) points to this machine, not to the "
                "portal's public address; signed PDFs and mails would link there.",
                hint="Set SLA_SITE_URL, e.g. https://sla.example.ch (or DJANGO_ALLOWED_HOSTS).",
                id="agreements.E001",
            )
        ]
    if url.scheme != "https":
        return [
            Warning(
                f"SLA_SITE_URL ({settings.SLA_SITE_URL}) is not an https address.",
                hint="The portal is served over HTTPS in production; link there.",
                id="agreements.W001",
            )
        ]
    return []
