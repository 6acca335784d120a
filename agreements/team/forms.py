"""The forms of the Team page, the page "Neue Organisation" and the invitation's sign-up."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from ..enums import Role
from ..models import Membership


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-Mail-Adresse"), max_length=254)
    role = forms.ChoiceField(label=_("Rolle"), choices=Role.choices)
    job_title = forms.CharField(
        label=_("Funktion"),
        max_length=200,
        required=False,
        help_text=_("Wie die Person im Unterschriftenblock bezeichnet wird."),
    )
    is_admin = forms.BooleanField(label=_("Verwaltet auch das Team"), required=False)


class OrganisationForm(forms.Form):
    """Staff's page "Neue Organisation": the name and who administers it first."""

    name = forms.CharField(label=_("Name der Organisation"), max_length=200)
    admin_email = forms.EmailField(label=_("E-Mail-Adresse der Administration"), max_length=254)
    admin_role = forms.ChoiceField(
        label=_("Rolle der Administration"), choices=Role.choices, initial=Role.MANAGEMENT
    )
    admin_job_title = forms.CharField(label=_("Funktion"), max_length=200, required=False)


class MembershipForm(forms.ModelForm):
    """One member's row on the Team page. Its fields sit in the table's cells and belong,
    by their ``form`` attribute, to the row's ``<form id=...>`` (a form cannot wrap a row)."""

    class Meta:
        model = Membership
        fields = ["role", "job_title", "is_admin"]
        labels = {"is_admin": _("Verwaltet das Team")}

    def __init__(self, *args, form_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if form_id:
                field.widget.attrs["form"] = form_id
            field.help_text = ""
        self.fields["role"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["job_title"].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["is_admin"].widget.attrs["class"] = "form-check-input"


class NewAccountForm(forms.Form):
    """Name and password of the invited person; without the password fields when the
    organisation requires single sign-on (``password=False``)."""

    first_name = forms.CharField(label=_("Vorname"), max_length=150)
    last_name = forms.CharField(label=_("Nachname"), max_length=150)
    password1 = forms.CharField(
        label=_("Passwort"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Passwort wiederholen"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, password: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        if not password:
            del self.fields["password1"]
            del self.fields["password2"]

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if "password1" in self.fields and first and second:
            if first != second:
                self.add_error("password2", _("Die beiden Passwörter stimmen nicht überein."))
            else:
                from django.contrib.auth import get_user_model

                # The validators compare with the name and address the account will have.
                user = get_user_model()(
                    email=self.email,
                    username=self.email,
                    first_name=cleaned.get("first_name", ""),
                    last_name=cleaned.get("last_name", ""),
                )
                try:
                    password_validation.validate_password(first, user)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return cleaned
