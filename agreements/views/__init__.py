"""Pages of the portal, one module per area. Thin: fetch through ``permissions``, call the
domain, render or redirect. ``urls.py`` reaches every view through this package."""

from .agreement import agreement_detail, agreement_framework_document
from .authoring import agreement_create, agreement_step, agreement_step_preview
from .goals import (
    agreement_actuals,
    agreement_actuals_csv,
    agreement_actuals_import,
    agreement_goals,
    agreement_goals_pdf,
    goals_overview,
)
from .lists import dashboard, signed_agreements
from .pdf import agreement_pdf, agreement_pdf_state, pdf_verify
from .signoff import (
    agreement_decline,
    agreement_renew,
    agreement_reopen,
    agreement_sign,
    agreement_submit,
)

__all__ = [
    "agreement_actuals",
    "agreement_actuals_csv",
    "agreement_actuals_import",
    "agreement_create",
    "agreement_decline",
    "agreement_detail",
    "agreement_framework_document",
    "agreement_goals",
    "agreement_goals_pdf",
    "agreement_pdf",
    "agreement_pdf_state",
    "agreement_renew",
    "agreement_reopen",
    "agreement_sign",
    "agreement_step",
    "agreement_step_preview",
    "agreement_submit",
    "dashboard",
    "goals_overview",
    "pdf_verify",
    "signed_agreements",
]
