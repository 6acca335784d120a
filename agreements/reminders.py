"""Reminder mails, sent by ``manage.py send_reminders`` from cron.

Two kinds (``ReminderKind``): a representative whose signature has been awaited for more
than ``settings.SLA_REMINDER_SIGNATURE_DAYS`` days since the submission, and the authors
(marketing and sales members) and management of an organisation whose signed agreement
is due for renewal within ``settings.SLA_REMINDER_RENEWAL_DAYS`` days and has no
successor yet. Each reminder is sent at most once a day per agreement, kind and
recipient, however often the command runs: a ``Reminder`` row is inserted before the
mail goes out, under a unique constraint, so a second run (even a concurrent one) finds
it and sends nothing. A run the next day reminds again.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import mails
from .enums import AUTHOR_ROLES, AgreementStatus, Party, ReminderKind, Role
from .models import Agreement, Reminder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderReport:
    """What a run did: mails sent, and reminders already sent today (skipped)."""

    sent: int = 0
    skipped: int = 0


def reminders_send(*, today: datetime.date | None = None) -> ReminderReport:
    """Send the reminders due on ``today`` (default: the local date) that were not sent yet."""
    today = today or timezone.localdate()
    sent = skipped = 0
    for agreement, kind, recipient, send in _due(today):
        if not recipient.is_active or not recipient.email:
            continue
        if _reminder_claim(agreement=agreement, kind=kind, recipient=recipient, today=today):
            try:
                send()
            except Exception:
                # Claimed but not sent: release the claim so the next run tries again.
                Reminder.objects.filter(
                    agreement=agreement, kind=kind, recipient=recipient, sent_on=today
                ).delete()
                logger.exception("%s reminder for agreement %s not sent", kind, agreement.pk)
                continue
            sent += 1
        else:
            skipped += 1
    return ReminderReport(sent=sent, skipped=skipped)


def _due(today: datetime.date):
    """(agreement, kind, recipient, send) for every reminder due on ``today``."""
    signature_days = settings.SLA_REMINDER_SIGNATURE_DAYS
    awaiting = (
        Agreement.objects.filter(status=AgreementStatus.AWAITING_SIGNATURES)
        .select_related("organisation", "marketing_representative", "sales_representative")
        .prefetch_related("signatures")
        .order_by("pk")
    )
    for agreement in awaiting:
        days_waiting = (today - timezone.localdate(agreement.submitted_at)).days
        if days_waiting <= signature_days:
            continue
        signed = {s.party for s in agreement.signatures.all() if s.is_valid}
        for party in Party:
            representative = agreement.representative(party)
            if party.value in signed or representative is None:
                continue
            yield (
                agreement,
                ReminderKind.SIGNATURE,
                representative,
                _sender(
                    mails.send_signature_reminder,
                    agreement=agreement,
                    recipient=representative,
                    days_waiting=days_waiting,
                ),
            )

    # Reminded until renewed, also past the renewal date, but not for a period that has
    # ended: an organisation that let its SLA run out is not written to every day.
    due_by = today + datetime.timedelta(days=settings.SLA_REMINDER_RENEWAL_DAYS)
    renewals = (
        Agreement.objects.filter(
            status=AgreementStatus.SIGNED,
            renewal_date__lte=due_by,
            end_date__gte=today,
            renewed_by__isnull=True,
        )
        .select_related("organisation")
        .order_by("pk")
    )
    for agreement in renewals:
        recipients = get_user_model().objects.filter(
            memberships__organisation_id=agreement.organisation_id,
            memberships__role__in=[*AUTHOR_ROLES, Role.MANAGEMENT],
        )
        for recipient in recipients.order_by("pk"):
            yield (
                agreement,
                ReminderKind.RENEWAL,
                recipient,
                _sender(mails.send_renewal_reminder, agreement=agreement, recipient=recipient),
            )


def _sender(func, **kwargs):
    return lambda: func(**kwargs)


def _reminder_claim(*, agreement, kind, recipient, today) -> bool:
    """Record the reminder as sent today; False when it was already (by this or another run)."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                agreement=agreement, kind=kind, recipient=recipient, sent_on=today
            )
    except IntegrityError:
        return False
    return True
