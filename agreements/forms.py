"""The wizard's forms: one ModelForm per step, each over the fields of its sections.

Drafts may be saved half-filled, so no content field is required here; what is still
missing is listed by the review step. What is typed must be valid, though, and is
checked against the whole agreement, including what other steps stored.
"""

import datetime
import json
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .actuals import ACTUALS_FIELDS, AMOUNT_FIELDS
from .enums import Party, SigningMethod
from .fingerprints import FURTHER_DEFINITIONS, agreement_fingerprints, parse_fingerprints
from .identity import signing as identity_signing
from .identity import throttle as identity_throttle
from .models import Agreement, FurtherDefinition, PeriodActuals
from .numbers import (
    NumberInputError,
    format_amount,
    format_integer,
    parse_amount,
    parse_integer,
)
from .uploads import PDF_MAGIC, FrameworkDocumentField

# The largest figures the database columns hold (PositiveIntegerField, DecimalField(14, 2)).
FIGURE_MAX = 2_000_000_000
AMOUNT_MAX = Decimal("999999999999.99")


class SwissNumberField(forms.Field):
    """A number as our users type it (``agreements.numbers``), shown back in Swiss form.

    A whole number by default, an amount in francs with ``amount=True``. A text input,
    not type=number: that one refuses the apostrophe our users type, and a browser would
    quietly drop what it cannot read. Empty means "not given" (None).
    """

    widget = forms.TextInput

    def __init__(self, *, amount: bool = False, min_value=0, max_value=None, **kwargs):
        self.amount, self.min_value, self.max_value = amount, min_value, max_value
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal" if self.amount else "numeric", "autocomplete": "off"})
        return attrs

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format_amount(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return format_amount(Decimal(value)) if self.amount else format_integer(value)
        return value

    def to_python(self, value):
        if value is None or not str(value).strip():
            return None
        if isinstance(value, int | Decimal):
            return value
        try:
            return parse_amount(value) if self.amount else parse_integer(value)
        except NumberInputError as error:
            raise ValidationError(error.message, code="invalid") from None

    def validate(self, value):
        super().validate(value)
        shown = self.prepare_value
        if value is not None and self.min_value is not None and value < self.min_value:
            raise ValidationError(
                _("Bitte eine Zahl ab %(limit)s eingeben.") % {"limit": shown(self.min_value)},
                code="min_value",
            )
        if value is not None and self.max_value is not None and value > self.max_value:
            raise ValidationError(
                _("Bitte eine Zahl bis %(limit)s eingeben.") % {"limit": shown(self.max_value)},
                code="max_value",
            )


# The SLA's dates are Swiss, whatever the interface language: 31.12.2027. A text input
# rather than type=date, whose format follows the browser's locale (mm/dd/yyyy on an
# English browser), not the document's.
DATE_INPUT_FORMATS = ["%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"]


class DateInput(forms.DateInput):
    def __init__(self, attrs=None):
        attrs = {"placeholder": _("TT.MM.JJJJ"), "inputmode": "numeric", **(attrs or {})}
        super().__init__(attrs, format="%d.%m.%Y")


# Directional overrides and isolates (U+202A–202E, U+2066–2069) make a text read
# differently from what is stored and hashed ("Rechnung\u202efdp.exe" shows as
# "Rechnungexe.pdf"): no place in an SLA between two German-speaking teams.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])

# The plausible years of an SLA and its framework: beyond them a typo, not a date.
FIRST_YEAR, LAST_YEAR = 2000, 2099


class SlaTextMixin:
    """Cleans what every SLA form shares: no bidi controls in text, dates in range."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                cleaned[name] = value.translate(BIDI_CONTROLS)
            elif isinstance(value, datetime.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
                self.add_error(
                    name,
                    _("Bitte ein Datum zwischen %(first)s und %(last)s eingeben.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
        return cleaned


# One label for "nothing chosen yet", in every select of the wizard.
EMPTY_CHOICE = _("– bitte wählen –")


class StepForm(SlaTextMixin, forms.ModelForm):
    """Common ground of every step: what the page was loaded with, Swiss numbers and dates.

    ``loaded`` carries the fingerprints of the values the page showed
    (``agreements.fingerprints``): the save compares them field by field with what is
    stored by then and what the author posts.
    """

    loaded = forms.CharField(widget=forms.HiddenInput, required=False)
    # Compared like a field although it is not one of the form's (DefinitionsForm).
    compared_extra: tuple[str, ...] = ()

    class Meta:
        model = Agreement
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            compared = [*self._meta.fields, *self.compared_extra]
            self.fields["loaded"].initial = json.dumps(
                agreement_fingerprints(self.instance, compared), separators=(",", ":")
            )
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2
            if isinstance(field, forms.DateField):
                field.widget = DateInput()
                field.input_formats = DATE_INPUT_FORMATS
                field.error_messages["invalid"] = _(
                    "Bitte ein gültiges Datum eingeben, z. B. 31.12.2027."
                )
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = EMPTY_CHOICE
            elif isinstance(field, forms.ChoiceField) and field.choices[:1] == [("", "---------")]:
                field.choices = [("", EMPTY_CHOICE), *field.choices[1:]]
            if name.startswith("funnel_") or name in {"sql_target", "response_time_hours"}:
                model_field = Agreement._meta.get_field(name)
                self.fields[name] = SwissNumberField(
                    label=model_field.verbose_name,
                    required=False,
                    min_value=1 if name == "response_time_hours" else 0,
                    max_value=24 * 365 if name == "response_time_hours" else FIGURE_MAX,
                    help_text=model_field.help_text,
                )

    def loaded_fingerprints(self) -> dict[str, str]:
        """The fingerprints the page was loaded with, as posted back."""
        return parse_fingerprints(self.cleaned_data.get("loaded"))

    def step_values(self) -> dict:
        """The step's cleaned values, as ``wizard.agreement_save_step`` takes them."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}

    def _post_clean(self):
        super()._post_clean()
        # Django skips constraints on fields of other steps (renewal vs. start date);
        # check them against what is stored, so the database never has to refuse.
        if not self.errors:
            try:
                self.instance.validate_constraints()
            except ValidationError as error:
                self.add_error(None, error)


class BasicsForm(StepForm):
    class Meta(StepForm.Meta):
        fields = ["start_date", "end_date", "geographic_unit", "group_subgroup"]
        help_texts = {
            "geographic_unit": _("Zum Beispiel «Deutschschweiz» oder «DACH»."),
            "group_subgroup": _("Die Gruppe oder Untergruppe, deren Resultat gemeint ist."),
        }


class PartiesForm(StepForm):
    class Meta(StepForm.Meta):
        fields = [
            "marketing_function",
            "marketing_representative",
            "sales_function",
            "sales_representative",
        ]
        help_texts = {
            "marketing_function": _("Zum Beispiel «Inbound Marketing»."),
            "sales_function": _("Zum Beispiel «Inbound Sales»."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        for party in Party:
            field = self.fields[f"{party.value}_representative"]
            field.queryset = User.objects.filter(
                memberships__organisation_id=self.instance.organisation_id,
                memberships__role=party.value,
            ).order_by("last_name", "first_name")
            field.label_from_instance = lambda user: user.get_full_name() or user.username
            field.help_text = _("Unterzeichnet für %(party)s.") % {"party": party.label}


class FrameworkForm(StepForm):
    # Form-only fields: the upload is checked and stored by agreements.uploads.
    framework_document = FrameworkDocumentField(
        label=_("Dokumentation des Systems (PDF, höchstens 10 MB)")
    )
    framework_document_remove = forms.BooleanField(
        required=False, label=_("Hinterlegtes Dokument entfernen")
    )

    class Meta(StepForm.Meta):
        fields = ["system_name", "system_created_on"]
        help_texts = {
            "system_name": _("Name des gemeinsam erarbeiteten Systems, z. B. «Inbound Playbook»."),
        }


class DefinitionsForm(StepForm):
    class Meta(StepForm.Meta):
        fields = [
            "definition_visits",
            "definition_contacts",
            "definition_leads",
            "definition_prospects",
            "definition_mql",
            "definition_sql",
            "rate_x_stage",
            "rate_y_stage",
            "definition_rate_xy",
            "rate_z_stage",
            "definition_rate_yz",
            "definition_close_rate",
            "definition_attribution",
            "definition_deal_stages",
            "definition_closed_won",
            "definition_revenue",
        ]

    compared_extra = (FURTHER_DEFINITIONS,)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate_y_stage"].help_text = _(
            "Y ist zugleich die Ausgangsstufe der zweiten Rate."
        )


class FurtherDefinitionForm(SlaTextMixin, forms.ModelForm):
    class Meta:
        model = FurtherDefinition
        fields = ["term", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


FurtherDefinitionFormSet = forms.inlineformset_factory(
    Agreement,
    FurtherDefinition,
    form=FurtherDefinitionForm,
    extra=0,
    can_delete=True,
    max_num=30,
    validate_max=True,
    # Django would build up to max_num + 1000 forms for a forged TOTAL_FORMS; 30 is all
    # a page ever sends, so a hostile count costs no more than an honest one.
    absolute_max=30,
)


class GoalsForm(StepForm):
    class Meta(StepForm.Meta):
        fields = [
            "sql_target",
            "sql_period",
            "response_time_hours",
            "report_back",
            "metric_sql",
            "metric_revenue",
            "metric_other",
        ]
        help_texts = {"metric_other": _("Weitere Metriken, durch Komma getrennt.")}


class ResponsibilitiesForm(StepForm):
    class Meta(StepForm.Meta):
        fields = ["marketing_responsible", "marketing_deputy", "sales_responsible", "sales_deputy"]


class ReportingForm(StepForm):
    class Meta(StepForm.Meta):
        fields = [
            "reporting_channel",
            "reporting_channel_other",
            "reporting_audience",
            "reporting_audience_other",
            "exchange_interval",
            "renewal_date",
        ]
        help_texts = {
            "reporting_channel_other": _("Nur bei «Anderes Tool»."),
            "reporting_audience_other": _("Nur bei «Andere»."),
        }


class FunnelForm(StepForm):
    class Meta(StepForm.Meta):
        fields = [
            "funnel_visits",
            "funnel_target_accounts",
            "funnel_mql",
            "funnel_prospects",
            "funnel_sql",
            "funnel_customers",
        ]


class NewAgreementForm(BasicsForm):
    """The first step of a new SLA, with the organisation when the author has several."""

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["loaded"]
        if len(organisations) > 1:
            self.fields["organisation"] = forms.ModelChoiceField(
                queryset=organisations, label=_("Organisation"), empty_label=None
            )
            self.order_fields(["organisation"])


# Sign-off (agreements.workflow). The forms parse and confirm; the workflow decides.

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
        ) % {"name": user.get_full_name() or user.get_username()}

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


# --- Ist-Werte (issue 8) ----------------------------------------------------------------


class PeriodActualsForm(forms.Form):
    """The figures of one period; the other role's figures are shown but disabled.

    Disabled fields ignore what is posted (Django keeps the initial value), and
    ``actuals_save`` refuses them once more: the role decides, not the browser.
    """

    def __init__(self, *args, editable: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.editable = editable
        for name in ACTUALS_FIELDS:
            model_field = PeriodActuals._meta.get_field(name)
            self.fields[name] = SwissNumberField(
                amount=name in AMOUNT_FIELDS,
                max_value=AMOUNT_MAX if name in AMOUNT_FIELDS else FIGURE_MAX,
                label=model_field.verbose_name,
                disabled=name not in editable,
            )

    def changed_values(self) -> dict:
        """The editable figures, as ``ActualsEntry.values``."""
        return {name: self.cleaned_data[name] for name in self.editable}


class ActualsImportForm(forms.Form):
    csv_file = forms.FileField(
        label=_("CSV-Datei"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
