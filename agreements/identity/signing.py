"""The factors that confirm a signature at the sign form: password, TOTP code, passkey.

Each check runs against the signer's own enrolled authenticators (allauth.mfa) and
counts a miss with django-axes (``throttle``), like a failed log-in. A passkey is asked
for a fresh challenge that the page carries; its answer is bound to this site (the
WebAuthn relying party is the host the signer sees) and to that challenge, kept in the
signer's session until used.
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn.internal import auth as webauthn
from django.core.exceptions import ValidationError

from .throttle import count_failure, password_confirms

__all__ = ["passkey_confirms", "passkey_request_options", "password_confirms", "totp_confirms"]


def passkey_request_options(user) -> dict:
    """A new WebAuthn challenge for ``user``'s passkeys, for the page to hand the browser."""
    return webauthn.begin_authentication(user)


def passkey_confirms(request, user, credential) -> bool:
    """Whether ``credential`` answers the page's challenge with one of ``user``'s passkeys."""
    try:
        webauthn.parse_authentication_response(credential)
        authenticator = webauthn.complete_authentication(user, credential)
    except (ValidationError, TypeError, ValueError, KeyError):
        count_failure(request, user)
        return False
    authenticator.record_usage()
    return True


def totp_confirms(request, user, code: str) -> bool:
    """Whether ``code`` is the current code of ``user``'s authenticator app (used once)."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is not None and authenticator.wrap().validate_code(code.strip()):
        authenticator.record_usage()
        return True
    count_failure(request, user)
    return False
