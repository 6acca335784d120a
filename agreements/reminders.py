"""Reminder mails, sent by ``manage.py send_reminders`` from cron.

Two kinds (``ReminderKind``): a representative whose signature has been awaited for more
than ``settings.SLA_REMINDER_SIGNATURE_DAYS`` days since the submission, and the authors
(marketing and sales members) and management of an organisation whose signed agreement
is due for renewal within ``settings.SLA_REMINDER_RENEWAL_DAYS`` days and has no
successor yet. Each reminder is sent once a day per agreement, kind and recipient,
however often the command runs: a ``Reminder`` row is inserted under a unique
constraint and the mail handed to the server in one transaction, so a second run (even
a concurrent one) finds it and sends nothing, while a failed mail leaves no row and is
sent by the next run (the task's retry, ``agreements.tasks.jobs.reminders_task``). The
mail goes through the ledger of ``agreements.outbox`` like every other. A run
the next day reminds again.
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
    """What a run did: mails sent, reminders already sent today (skipped), mails that failed."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0


def reminders_send(*, today: datetime.date | None = None) -> ReminderReport:
    """Send the reminders due on ``today`` (default: the local date) that were not sent yet."""
    today = today or timezone.localdate()
    sent = skipped = failed = 0
    for agreement, kind, recipient, send in _due(today):
        if not recipient.is_active or not recipient.email:
            continue
        try:
            with transaction.atomic():
                reminder = _reminder_claim(
                    agreement=agreement, kind=kind, recipient=recipient, today=today
                )
                if reminder is not None:
                    send(key=f"reminder-{reminder.pk}")
        except Exception:
            # Nothing was recorded: the next run (the task's retry) sends it.
            failed += 1
            logger.exception("%s reminder for agreement %s not sent", kind, agreement.pk)
            continue
        if reminder is None:
            skipped += 1
        else:
            sent += 1
    return ReminderReport(sent=sent, skipped=skipped, failed=failed)


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
    return lambda *, key: func(key=key, **kwargs)


def _reminder_claim(*, agreement, kind, recipient, today) -> Reminder | None:
    """Record the reminder as sent today; None when it was already (by this or another run).

    Inside the caller's transaction, which sends the mail before it commits the row.
    """
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                agreement=agreement, kind=kind, recipient=recipient, sent_on=today
            )
    except IntegrityError:
        return None
