"""``manage.py send_reminders``: overdue signatures and renewals due, each once a day."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from agreements.enums import Party, ReminderKind
from agreements.models import Reminder
from agreements.workflow import agreement_renew
from tests.factories import make_request_meta, sign_agreement, submit_agreement

User = get_user_model()
REPRESENTATIVES = ["marketing@muster.example", "sales@muster.example"]
AUTHORS_AND_MANAGEMENT = [
    "management@muster.example",
    "marketing@muster.example",
    "sales@muster.example",
]


SIGNATURE_SUBJECT = "Erinnerung: Bitte unterzeichnen"
RENEWAL_SUBJECT = "Erinnerung: Erneuerung fällig"


def run(today: datetime.date) -> None:
    call_command("send_reminders", today=today.isoformat(), stdout=io.StringIO())


def reminders(subject: str) -> list:
    return [message for message in mail.outbox if message.subject.startswith(subject)]


def recipients(subject: str) -> list[str]:
    """Who got reminders of one kind. The demo's signed 2026 SLA is due for renewal in
    late 2026, so a signature reminder test may see renewal reminders beside its own."""
    return sorted(address for message in reminders(subject) for address in message.to)


# --- Signatures awaited -------------------------------------------------------------------


@pytest.fixture
def submitted_on(demo_agreement) -> datetime.date:
    """The 2027 demo SLA submitted for signature; returns the day of the submission."""
    agreement = submit_agreement(demo_agreement)
    mail.outbox.clear()
    return timezone.localdate(agreement.submitted_at)


def test_no_signature_reminder_within_the_days_allowed(submitted_on):
    run(submitted_on + datetime.timedelta(days=3))

    assert reminders(SIGNATURE_SUBJECT) == []


def test_signature_reminder_once_a_day_however_often_it_runs(submitted_on):
    day = submitted_on + datetime.timedelta(days=4)

    run(day)
    run(day)
    run(day)

    assert recipients(SIGNATURE_SUBJECT) == REPRESENTATIVES
    message = reminders(SIGNATURE_SUBJECT)[0]
    assert message.subject.startswith("Erinnerung: Bitte unterzeichnen: SLA Muster AG 01.01.2027")
    assert "wartet seit 4 Tagen auf Ihre Unterschrift" in message.body
    assert "/agreements/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "wartet seit 4 Tagen" in html

    run(day + datetime.timedelta(days=1))

    assert recipients(SIGNATURE_SUBJECT) == sorted(REPRESENTATIVES * 2)


def test_signature_reminder_only_to_who_has_not_signed(submitted_on, demo_agreement):
    sign_agreement(demo_agreement, Party.MARKETING)
    mail.outbox.clear()

    run(submitted_on + datetime.timedelta(days=5))

    assert recipients(SIGNATURE_SUBJECT) == ["sales@muster.example"]
    body = reminders(SIGNATURE_SUBJECT)[0].body
    assert reverse("agreement_detail", args=[demo_agreement.pk]) in body


def test_signature_days_are_a_setting(submitted_on, settings):
    settings.SLA_REMINDER_SIGNATURE_DAYS = 1

    run(submitted_on + datetime.timedelta(days=2))

    assert recipients(SIGNATURE_SUBJECT) == REPRESENTATIVES


def test_a_reminder_claimed_by_another_run_is_not_sent_again(submitted_on, demo_agreement):
    """The row is the claim: a concurrent run that inserted it first has sent the mail."""
    day = submitted_on + datetime.timedelta(days=4)
    Reminder.objects.create(
        agreement=demo_agreement,
        kind=ReminderKind.SIGNATURE,
        recipient=User.objects.get(username="marketing"),
        sent_on=day,
    )

    run(day)

    assert recipients(SIGNATURE_SUBJECT) == ["sales@muster.example"]
    assert Reminder.objects.filter(sent_on=day, kind=ReminderKind.SIGNATURE).count() == 2


# --- Renewal due --------------------------------------------------------------------------


@pytest.fixture
def signed_2026(signed_demo):
    """The signed 2026 demo SLA (renewal date 01.12.2026), its completion mails cleared."""
    mail.outbox.clear()
    return signed_demo


def test_renewal_reminder_once_a_day_to_authors_and_management(signed_2026):
    day = datetime.date(2026, 11, 15)  # 16 days before the renewal date

    run(day)
    run(day)

    assert recipients(RENEWAL_SUBJECT) == AUTHORS_AND_MANAGEMENT
    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert message.subject.startswith("Erinnerung: Erneuerung fällig: SLA Muster AG 01.01.2026")
    assert "per 01.12.2026 zu erneuern" in message.body
    assert reverse("agreement_detail", args=[signed_2026.pk]) in message.body

    run(day + datetime.timedelta(days=1))

    assert recipients(RENEWAL_SUBJECT) == sorted(AUTHORS_AND_MANAGEMENT * 2)


@pytest.mark.parametrize(
    "day",
    [
        datetime.date(2026, 10, 31),  # 31 days before the renewal date
        datetime.date(2027, 1, 1),  # the period is over
    ],
)
def test_no_renewal_reminder_outside_the_window(signed_2026, day):
    run(day)

    assert mail.outbox == []


def test_renewal_reminder_up_to_the_end_of_the_period(signed_2026):
    run(datetime.date(2026, 12, 31))

    assert recipients(RENEWAL_SUBJECT) == AUTHORS_AND_MANAGEMENT


def test_no_renewal_reminder_once_a_successor_exists(signed_2026):
    agreement_renew(
        agreement=signed_2026,
        user=User.objects.get(username="sales"),
        meta=make_request_meta(),
    )
    mail.outbox.clear()

    run(datetime.date(2026, 11, 15))

    assert mail.outbox == []


def test_today_must_be_a_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", today="15.11.2026")
