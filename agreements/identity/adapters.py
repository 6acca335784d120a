"""allauth's hooks, where the portal's rules differ from allauth's defaults.

- Nobody signs up: accounts are made by staff (and, later, by invitation).
- A first SSO log-in links to the existing account whose e-mail address the provider
  says it verified, and to nothing else: an unverified claim, or an address no account
  has, ends on the "no account" page. Memberships and roles stay the portal's.
- A member of an organisation that requires SSO gets in only through the provider:
  a correct password or a passkey alone is refused (``pre_login``).
"""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth import get_user_model
from django.shortcuts import render

from .rules import sso_required

logger = logging.getLogger(__name__)

SITE_NAME = "SLA-Portal"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_login(self, request, user, **kwargs):
        """Refuse a log-in without SSO for a member of an organisation that requires it."""
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        methods = {record.get("method") for record in get_authentication_records(request, user)}
        if "socialaccount" not in methods and sso_required(user):
            clear_login(request)
            logger.info("identity: log-in without SSO refused for user %s", user.pk)
            return render(request, "account/sso_required.html", status=403)
        return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        """Link a first SSO log-in to the one active account with a verified address.

        Only addresses the provider marked verified (``email_verified``, or a domain
        configured as verified for it) count; the account's address is the one staff
        entered. Two accounts with one address link to neither.
        """
        if sociallogin.is_existing:
            return
        verified = [address.email for address in sociallogin.email_addresses if address.verified]
        for email in verified:
            users = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
            if len(users) == 1:
                sociallogin.connect(request, users[0])
                logger.info(
                    "identity: %s account linked to user %s by verified address",
                    sociallogin.account.provider,
                    users[0].pk,
                )
                return


class MFAAdapter(DefaultMFAAdapter):
    def _get_site_name(self) -> str:
        # The name an authenticator app and the passkey dialogue show, not the host.
        return SITE_NAME
