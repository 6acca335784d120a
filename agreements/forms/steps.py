"""The wizard's forms: one ModelForm per step, each over the fields of its sections.

Drafts may be saved half-filled, so no content field is required here; what is still
missing is listed by the review step. What is typed must be valid, though, and is
checked against the whole agreement, including what other steps stored.
"""

import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..enums import Party
from ..fingerprints import FURTHER_DEFINITIONS, agreement_fingerprints, parse_fingerprints
from ..models import Agreement, FurtherDefinition
from ..people import display_name
from ..uploads import FrameworkDocumentField
from .fields import (
    DATE_INPUT_FORMATS,
    EMPTY_CHOICE,
    FIGURE_MAX,
    DateInput,
    SlaTextMixin,
    SwissNumberField,
)


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
            field.label_from_instance = display_name
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
