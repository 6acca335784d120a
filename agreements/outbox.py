"""Each mail once: the ledger of mails handed to the mail server (``MailDelivery``).

A task that sends mail may run more than once: retried after a failure, or run again
by another worker after its own died (``agreements.tasks.recovery``), and the reminders
may be sent by a command run twice. Every mail
therefore has a key (the work it belongs to and its recipient, e.g. the completion
event and a user), and ``mail_deliver`` sends it only when the ledger has no row with
that key. The row is inserted, the mail handed to the server and the row committed in
one transaction:

- A crash or a failure before the server accepted the mail rolls the row back: the
  next run sends it.
- A second worker on the same mail waits on the row's key until the first commits
  (PostgreSQL's unique index), then finds it and sends nothing.
- What remains is the moment between the server's "250 accepted" and our commit
  (a COMMIT's round trip; the SMTP connection stays open so that no QUIT falls into
  it). A crash exactly then sends that mail a second time on the next run, with the
  same Message-ID, by which mail systems recognise a duplicate. Delivery is therefore
  at least once, and exactly once unless the worker dies in that instant. No
  protocol closes that gap: the mail server and the database cannot commit together.

On SQLite, where a write transaction locks the whole database, the mail server's
answer is awaited with that lock held: at most ``EMAIL_TIMEOUT``. One more reason to
run production on PostgreSQL (docs/scaling.md).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MailDelivery(models.Model):
    """A mail the portal handed to the mail server: one row per piece of work and recipient."""

    key = models.CharField(_("Schlüssel"), max_length=150, unique=True)
    # Empty for a mail about no agreement: an invitation to an organisation (agreements.team).
    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mail_deliveries",
        verbose_name=_("Vereinbarung"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("Empfänger"),
    )
    address = models.EmailField(_("Adresse"))
    subject = models.CharField(_("Betreff"), max_length=300)
    message_id = models.CharField(_("Message-ID"), max_length=250)
    sent_at = models.DateTimeField(_("Übergeben am"))

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("Versandte Mail")
        verbose_name_plural = _("Versandte Mails")

    def __str__(self) -> str:
        return f"{self.subject} → {self.address}"


def mail_deliver(
    *,
    key: str,
    agreement_id: int | None,
    recipient,
    subject: str,
    text: str,
    html: str,
    connection=None,
    address: str | None = None,
) -> bool:
    """Send one mail to ``recipient`` unless the mail ``key`` went out before.

    Returns True when it was sent now. ``connection`` is an open mail connection
    (``django.core.mail.get_connection``) shared by the mails of one piece of work.
    The mail's Message-ID is made from ``key``: the same on every attempt. A mail to
    someone without an account yet (an invitation) has no ``recipient`` but an ``address``.
    """
    address = recipient.email if recipient is not None else address
    message_id = f"<sla.{key}@{_mail_domain()}>"
    with transaction.atomic():
        try:
            with transaction.atomic():
                MailDelivery.objects.create(
                    key=key,
                    agreement_id=agreement_id,
                    recipient=recipient,
                    address=address,
                    subject=subject[:300],
                    message_id=message_id,
                    sent_at=timezone.now(),
                )
        except IntegrityError:
            return False  # sent already, or being sent by another worker that will commit it
        if connection is not None:
            connection.open()  # once; it stays open for the next mail (see the module)
        message = EmailMultiAlternatives(
            subject,
            text,
            to=[address],
            connection=connection,
            headers={"Message-ID": message_id},
        )
        message.attach_alternative(html, "text/html")
        message.send()
    return True


def _mail_domain() -> str:
    return urlsplit(settings.SLA_SITE_URL).hostname or "localhost"
