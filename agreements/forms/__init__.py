"""The portal's forms, by area; every form is importable from here.

fields (Swiss numbers and dates, clean text), steps (the wizard, one form per step),
signoff (submit, sign, decline, reopen, verify), actuals (reported figures).
"""

from .actuals import ActualsImportForm, PeriodActualsForm
from .fields import (
    AMOUNT_MAX,
    BIDI_CONTROLS,
    DATE_INPUT_FORMATS,
    EMPTY_CHOICE,
    FIGURE_MAX,
    FIRST_YEAR,
    LAST_YEAR,
    DateInput,
    SlaTextMixin,
    SwissNumberField,
)
from .signoff import (
    CONSENT_TEXT,
    VERIFY_MAX_BYTES,
    DeclineForm,
    PdfVerifyForm,
    ReopenForm,
    SignForm,
    SubmitForm,
)
from .steps import (
    BasicsForm,
    DefinitionsForm,
    FrameworkForm,
    FunnelForm,
    FurtherDefinitionForm,
    FurtherDefinitionFormSet,
    GoalsForm,
    NewAgreementForm,
    PartiesForm,
    ReportingForm,
    ResponsibilitiesForm,
    StepForm,
)

__all__ = [
    "AMOUNT_MAX",
    "BIDI_CONTROLS",
    "CONSENT_TEXT",
    "DATE_INPUT_FORMATS",
    "EMPTY_CHOICE",
    "FIGURE_MAX",
    "FIRST_YEAR",
    "LAST_YEAR",
    "VERIFY_MAX_BYTES",
    "ActualsImportForm",
    "BasicsForm",
    "DateInput",
    "DeclineForm",
    "DefinitionsForm",
    "FrameworkForm",
    "FunnelForm",
    "FurtherDefinitionForm",
    "FurtherDefinitionFormSet",
    "GoalsForm",
    "NewAgreementForm",
    "PartiesForm",
    "PdfVerifyForm",
    "PeriodActualsForm",
    "ReopenForm",
    "ReportingForm",
    "ResponsibilitiesForm",
    "SignForm",
    "SlaTextMixin",
    "StepForm",
    "SubmitForm",
    "SwissNumberField",
]
