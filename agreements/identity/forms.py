"""allauth's account forms, with the portal's throttle and records.

- The current password on the change form is checked as a log-in (``throttle``): a
  wrong one counts towards the lockout, and a locked account cannot be tried there.
- A reset is mailed only to an account that logs in with a password: not to a member
  of an organisation that requires SSO, and at most ``reset_password_account`` times an
  hour to one account, whichever of its addresses was typed (allauth counts per address
  typed and per client address as well). Every request is logged; a completed reset is
  logged and written to the account's history in the admin (Django's admin log), the
  audit record of an account.
"""

import logging

from allauth.account import forms as allauth_forms
from allauth.core import context, ratelimit
from axes.utils import reset as axes_reset
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .rules import sso_required
from .throttle import password_confirms

logger = logging.getLogger(__name__)

# The rate (ACCOUNT_RATE_LIMITS) of reset mails to one account, by its id.
ACCOUNT_LIMIT = "reset_password_account"
# What the account's history in the admin says of a reset; German, as the admin is.
RESET_RECORD = "Passwort per Link aus der E-Mail zurückgesetzt; alle Sitzungen beendet."


class LoginForm(allauth_forms.LoginForm):
    """allauth's log-in form, labelled as our users say it, without placeholders that
    would only repeat the labels."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Benutzername oder E-Mail-Adresse")
        login.widget.attrs.update(autocomplete="username", autocapitalize="none")
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        if not password_confirms(context.request, self.user, password):
            raise allauth_forms.get_adapter().validation_error("enter_current_password")
        return password


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [user for user in self.users if not sso_required(user)]
        return email

    def save(self, request, **kwargs) -> str:
        # Beyond the limit an account gets no more mail, and the page says the same as
        # always: whoever asks learns nothing about the account.
        limited = [
            user
            for user in self.users
            if not ratelimit.consume(request, action=ACCOUNT_LIMIT, key=f"user-{user.pk}")
        ]
        for user in limited:
            logger.warning("identity: password reset for user %s refused: limit reached", user.pk)
        self.users = [user for user in self.users if user not in limited]
        if not self.users and limited:
            return self.cleaned_data["email"]
        email = super().save(request, **kwargs)
        if self.users:
            for user in self.users:
                logger.info("identity: password reset mailed to user %s", user.pk)
        else:
            logger.info("identity: password reset asked for an address without account")
        return email


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def save(self) -> None:
        """Set the new password; every session of the account ends with the old one.

        Django's sessions carry a hash of the password, so each of them is refused at its
        next request. The lockout of the account is lifted: the link proved the mailbox.
        """
        super().save()
        axes_reset(username=self.user.get_username().lower())
        LogEntry.objects.log_actions(
            user_id=self.user.pk,
            queryset=get_user_model().objects.filter(pk=self.user.pk),
            action_flag=CHANGE,
            change_message=RESET_RECORD,
            single_object=True,
        )
        logger.warning(
            "identity: password of user %s reset by mailed link; its sessions are ended",
            self.user.pk,
        )
