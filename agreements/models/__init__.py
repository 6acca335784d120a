"""The data of the portal, one module per responsibility; every model is importable from here.

organisation (who takes part), frozen (what a submitted agreement still allows), agreement
(the SLA's content), records (signatures, audit trail, reminders), actuals (reported figures);
the ledger of sent mails lives in ``agreements.outbox`` and is registered from here.
"""

from ..outbox import MailDelivery
from .actuals import PeriodActuals
from .agreement import (
    SEARCH_LOOKUPS,
    Agreement,
    AgreementQuerySet,
    FurtherDefinition,
    framework_document_path,
    signed_pdf_path,
)
from .frozen import STATUS_TRANSITIONS, WORKFLOW_FIELDS, AgreementFrozen, refuse_frozen_write
from .organisation import (
    Membership,
    Organisation,
    user_administered_organisations,
    user_organisations_changed,
    user_roles,
)
from .records import AuditEvent, Reminder, Signature, SignatureQuerySet

__all__ = [
    "SEARCH_LOOKUPS",
    "STATUS_TRANSITIONS",
    "WORKFLOW_FIELDS",
    "Agreement",
    "AgreementFrozen",
    "AgreementQuerySet",
    "AuditEvent",
    "FurtherDefinition",
    "MailDelivery",
    "Membership",
    "Organisation",
    "PeriodActuals",
    "Reminder",
    "Signature",
    "SignatureQuerySet",
    "framework_document_path",
    "refuse_frozen_write",
    "signed_pdf_path",
    "user_administered_organisations",
    "user_organisations_changed",
    "user_roles",
]
