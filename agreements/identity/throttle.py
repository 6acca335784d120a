"""Every check of a secret counts with django-axes, wherever the form is.

The log-in form's checks go through ``authenticate()``, which django-axes watches. The
sign form and the password change check a logged-in user's password or code: they go
through the same door here, so guessing there locks the account like guessing at the
log-in, and a locked account cannot be tried there either. django-axes' middleware turns
a refused check (``request.axes_locked_out``) into the lockout page.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed


def password_confirms(request, user, password: str) -> bool:
    """Whether ``password`` is ``user``'s, checked as a log-in: refused while locked out,
    a wrong one counted as a failed log-in of that account from that address."""
    confirmed = authenticate(request, username=user.get_username(), password=password)
    return confirmed is not None and confirmed.pk == user.pk


def is_locked_out(request, user) -> bool:
    """Whether ``user``'s account, or the client's address, is locked out now.

    Marks the request, so the middleware answers with the lockout page (429).
    """
    if not settings.AXES_ENABLED:
        return False
    locked = AxesProxyHandler.is_locked(request, {"username": user.get_username()})
    if locked:
        request.axes_locked_out = True
    return locked


def count_failure(request, user) -> None:
    """Count a wrong code (TOTP, passkey) for ``user`` as a failed log-in."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
