"""Template tags of the identity pages and mails (templates/account, templates/mfa)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def password_reset_minutes() -> int:
    """How long a mailed password reset link is valid, in minutes (PASSWORD_RESET_TIMEOUT)."""
    return settings.PASSWORD_RESET_TIMEOUT // 60
