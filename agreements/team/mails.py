"""The invitation mail: the link to join, sent once per link through the mail ledger.

Like the workflow's mails (``agreements.mails``) it is plain text with an HTML part made
from the same text, written in the portal's language, and goes out through
``agreements.outbox.mail_deliver``: keyed by the invitation and its nonce, so a retried
task sends it once, and a resend (a new nonce, a new link) sends a new mail.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from ..outbox import mail_deliver
from .models import Invitation, InvitationStatus
from .rules import person_name
from .tokens import invitation_token


def invitation_link(invitation: Invitation) -> str:
    return settings.SLA_SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])


def send_invitation(invitation_id: int) -> bool:
    """Mail the invitation's link unless it was revoked, used or expired meanwhile.

    Returns True when a mail went out now.
    """
    invitation = Invitation.objects.select_related("organisation", "invited_by").get(
        pk=invitation_id
    )
    if invitation.status != InvitationStatus.PENDING:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Einladung ins SLA-Portal der %(organisation)s") % {
            "organisation": invitation.organisation
        }
        text = render_to_string(
            "team/email/invitation.txt",
            {
                "organisation": invitation.organisation.name,
                "inviter": person_name(invitation.invited_by) if invitation.invited_by else "",
                "role": invitation.get_role_display(),
                "is_admin": invitation.is_admin,
                "link": invitation_link(invitation),
                "expires": timezone.localtime(invitation.expires_at).strftime("%d.%m.%Y %H:%M"),
            },
        )
        text = text.strip() + "\n"
        html = render_to_string(
            "agreements/email/message.html", {"text": text.strip(), "subject": subject}
        )
    return mail_deliver(
        key=f"invitation-{invitation.pk}.{invitation.nonce}",
        agreement_id=None,
        recipient=None,
        address=invitation.email,
        subject=subject,
        text=text,
        html=html,
    )
