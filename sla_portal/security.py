"""django-axes' hooks: the name a log-in attempt counts under, the lockout page, and a
handler whose success resets only its own user name's failures.

The client's address comes from ``agreements.identity.client.client_ip``, as for
signatures and audit events.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render


class AxesHandler(AxesDatabaseHandler):
    """django-axes' database handler, whose successful log-in resets only its own name.

    axes' own reset deletes every attempt that matches *any* lockout parameter, the
    address included: one correct log-in to an account of one's own wiped the failures
    of every other user name tried from that address (9 wrong passwords for "sales", a
    log-in as oneself, repeat: no lockout ever). Here a success clears the failures
    counted under the user name that succeeded, from any address, and nothing else:
    the address keeps counting the others.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


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
