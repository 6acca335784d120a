"""The invitation link: ``<id>-<HMAC>``, checked without storing anything secret.

The HMAC (Django's ``salted_hmac`` with ``SECRET_KEY``) covers the invitation's id, its
nonce and its address. The database holds the nonce only, so its copy opens nothing; a
resend draws a new nonce, which voids every older link; the task that sends the mail
gets the invitation's id and makes the link itself, so no link sits in the task table.
"""

from __future__ import annotations

from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Invitation

SALT = "agreements.team.invitation"


def invitation_token(invitation: Invitation) -> str:
    return f"{invitation.pk}-{_signature(invitation)}"


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation the link names, in whatever state; None for a link we never made."""
    pk, _, signature = token.partition("-")
    if not pk.isdigit() or not signature:
        return None
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by").filter(pk=int(pk)).first()
    )
    if invitation is None or not constant_time_compare(signature, _signature(invitation)):
        return None
    return invitation


def _signature(invitation: Invitation) -> str:
    value = f"{invitation.pk}:{invitation.nonce}:{invitation.email.lower()}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()
