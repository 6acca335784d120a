"""What an organisation asks of its members: log-in only by single sign-on, a second factor
to sign. The answers for one user, read by the log-in (adapters) and the sign form."""

from allauth.mfa.models import Authenticator

from ..enums import SigningMethod
from ..models import Organisation


def sso_required(user) -> bool:
    """Whether any organisation of ``user`` lets its members in only through SSO."""
    if user is None or user.pk is None:
        return False
    return Organisation.objects.filter(memberships__user=user, require_sso=True).exists()


def user_factors(user) -> set[SigningMethod]:
    """The second factors ``user`` has enrolled: TOTP and/or passkeys."""
    types = set(
        Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).values_list("type", flat=True)
    )
    factors = set()
    if Authenticator.Type.TOTP in types:
        factors.add(SigningMethod.TOTP)
    if Authenticator.Type.WEBAUTHN in types:
        factors.add(SigningMethod.WEBAUTHN)
    return factors


def signing_methods(user, organisation: Organisation) -> list[SigningMethod]:
    """How ``user`` may confirm a signature for ``organisation``, strongest first.

    A passkey or a TOTP code always counts. The password counts unless the organisation
    asks for a second factor to sign, or lets its members in only by SSO (their portal
    password, if they have one, is then not how they prove who they are). An empty list
    means the user must enrol a factor before signing.
    """
    factors = user_factors(user)
    methods = [m for m in (SigningMethod.WEBAUTHN, SigningMethod.TOTP) if m in factors]
    password_counts = not (organisation.require_signing_second_factor or organisation.require_sso)
    if password_counts and user.has_usable_password():
        methods.append(SigningMethod.PASSWORD)
    return methods


def method_allowed(method: SigningMethod, organisation: Organisation) -> bool:
    """Whether a signature confirmed by ``method`` meets the organisation's rule."""
    if method == SigningMethod.PASSWORD:
        return not (organisation.require_signing_second_factor or organisation.require_sso)
    return True
