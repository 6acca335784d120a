"""The forms of the reported figures (Ist-Werte, issue 8): one period, or a CSV file."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..actuals import ACTUALS_FIELDS, AMOUNT_FIELDS
from ..models import PeriodActuals
from .fields import AMOUNT_MAX, FIGURE_MAX, SwissNumberField


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
