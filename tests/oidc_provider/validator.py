"""The claims the test provider puts into ID token and userinfo, from its users file."""

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "email": "email",
        "email_verified": "email",
        "given_name": "profile",
        "family_name": "profile",
        "preferred_username": "profile",
    }

    def get_additional_claims(self, request):
        user = request.user
        person = settings.USERS[user.username]
        return {
            "email": person["email"],
            "email_verified": person["email_verified"],
            "given_name": person.get("given_name", ""),
            "family_name": person.get("family_name", ""),
            "preferred_username": user.username,
        }
