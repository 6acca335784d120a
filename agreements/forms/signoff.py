"""The sign-off's forms (agreements.workflow): they parse and confirm; the workflow decides.

Submitting, signing (with a factor that proves who signs), declining and reopening, and
the verify page's upload of a PDF to check against the stored ones.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..enums import SigningMethod
from ..identity import signing as identity_signing
from ..identity import throttle as identity_throttle
from ..people import display_name
from ..uploads import PDF_MAGIC

CONSENT_TEXT = _(
    "Ich unterzeichne diese Vereinbarung elektronisch und bestätige, das oben angezeigte "
    "Dokument gelesen zu haben."
)


class SubmitForm(forms.Form):
    """The review step's "Zur Unterzeichnung einreichen", tied to the revision reviewed."""

    revision = forms.IntegerField(widget=forms.HiddenInput)


class SignForm(forms.Form):
    """The signer's intent: a factor that proves it is them, full name typed, consent.

    ``methods`` are the factors that count for this signer and organisation, strongest
    first (``identity.rules.signing_methods``): a passkey (``credential``, filled in by
    the page's script), a code of the authenticator app, the password. The first one
    given is checked, as a log-in would be (a miss counts towards the lockout);
    ``cleaned_data["method"]`` says which. ``content_sha256`` is the hash of the version
    the page showed; ``agreement_sign`` refuses it when the frozen content has changed.
    """

    credential = forms.JSONField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Code aus der Authenticator-App"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        help_text=_("Die sechs Ziffern, die Ihre App jetzt anzeigt."),
    )
    password = forms.CharField(
        label=_("Ihr Passwort"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Zur Bestätigung, dass Sie selbst unterzeichnen."),
        error_messages={"required": _("Bitte geben Sie Ihr Passwort ein.")},
    )
    typed_name = forms.CharField(
        label=_("Ihr vollständiger Name"),
        max_length=200,
        # Typed, not filled in by the browser: typing it is part of the intent to sign.
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Bitte tippen Sie Ihren vollständigen Namen.")},
    )
    consent = forms.BooleanField(
        label=CONSENT_TEXT,
        error_messages={
            "required": _("Bitte bestätigen Sie, dass Sie elektronisch unterzeichnen möchten.")
        },
    )
    content_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    FACTOR_FIELDS = {
        SigningMethod.WEBAUTHN: "credential",
        SigningMethod.TOTP: "code",
        SigningMethod.PASSWORD: "password",
    }

    def __init__(self, *args, user, request, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request, self.methods = user, request, list(methods)
        for method, name in self.FACTOR_FIELDS.items():
            if method not in self.methods:
                del self.fields[name]
        if self.methods == [SigningMethod.PASSWORD]:
            self.fields["password"].required = True
        self.fields["typed_name"].help_text = _(
            "So, wie er in der Vereinbarung steht: %(name)s"
        ) % {"name": display_name(user)}

    def clean(self):
        cleaned = super().clean()
        method = next(
            (m for m in self.methods if cleaned.get(self.FACTOR_FIELDS[m]) not in (None, "")),
            None,
        )
        if method is None:
            if not self.has_error("password"):
                self.add_error(None, _("Bitte bestätigen Sie mit einem der Verfahren unten."))
            return cleaned
        if identity_throttle.is_locked_out(self.request, self.user):
            self.add_error(None, _("Zu viele Fehlversuche: bitte versuchen Sie es später."))
            return cleaned
        value = cleaned[self.FACTOR_FIELDS[method]]
        if method == SigningMethod.WEBAUTHN:
            confirmed = identity_signing.passkey_confirms(self.request, self.user, value)
            error = _("Der Passkey wurde nicht bestätigt. Bitte versuchen Sie es noch einmal.")
        elif method == SigningMethod.TOTP:
            confirmed = identity_signing.totp_confirms(self.request, self.user, value)
            error = _("Der Code ist nicht korrekt oder schon verwendet.")
        else:
            confirmed = identity_signing.password_confirms(self.request, self.user, value)
            error = _("Das Passwort ist nicht korrekt.")
        if not confirmed:
            self.add_error(
                self.FACTOR_FIELDS[method] if method != SigningMethod.WEBAUTHN else None, error
            )
        cleaned["method"] = method
        return cleaned


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Grund der Ablehnung"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Die Autorinnen und Autoren erhalten den Grund per E-Mail."),
        error_messages={"required": _("Bitte geben Sie einen Grund für die Ablehnung an.")},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Grund (freiwillig)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Bereits gegebene Unterschriften werden ungültig; alle Beteiligten werden "
            "benachrichtigt."
        ),
    )


# A signed PDF is a few hundred kB, plus the framework document (at most
# SLA_MAX_UPLOAD_BYTES) when it travels inside as an attachment.
VERIFY_MAX_BYTES = 25 * 1024 * 1024


class PdfVerifyForm(forms.Form):
    """A PDF to check against the signed PDFs the portal has stored (verify page).

    Only the size and the first bytes are checked: the file is hashed, never parsed, so
    a malformed PDF costs no more than reading it.
    """

    pdf = forms.FileField(
        label=_("PDF-Datei"),
        help_text=_("Höchstens 25 MB. Die Datei wird nur geprüft, nicht gespeichert."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_pdf(self):
        uploaded = self.cleaned_data["pdf"]
        if uploaded.size > VERIFY_MAX_BYTES:
            raise ValidationError(
                _("Die Datei ist grösser als %(megabytes)s MB."),
                code="too_large",
                params={"megabytes": VERIFY_MAX_BYTES // (1024 * 1024)},
            )
        uploaded.seek(0)
        head = uploaded.read(len(PDF_MAGIC))
        uploaded.seek(0)
        if head != PDF_MAGIC:
            raise ValidationError(_("Die Datei ist kein PDF."), code="not_pdf")
        return uploaded
