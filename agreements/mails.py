"""The mails of the sign-off and renewal, sent by tasks after the workflow's transaction
commits (``agreements.tasks.jobs``), and the reminders of ``agreements.reminders``.

Each mail is plain text from ``templates/agreements/email/<name>.txt`` with an HTML part
made from that same text (``message.html``), so both parts always say the same. They go
to other people than the one whose request sent them, so they are written in the
portal's language, not the requester's. Users without an e-mail address, or inactive
ones, are skipped. Links point to the agreement page, which asks for a login first.

Every mail has a key, the piece of work it belongs to (``key``, e.g. ``event-12`` for
the audit event that calls for it) plus its template and recipient, and goes out
through the ledger of ``agreements.outbox``: once, however often its task runs.
"""

from __future__ import annotations

import re
from html import unescape

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.template.defaultfilters import linebreaks_filter
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy

from .enums import AuditAction, Party, Role
from .models import Agreement, AuditEvent, Signature
from .outbox import mail_deliver
from .people import display_name

# The audit events whose workflow step calls for mail (``send_for_event``).
MAIL_ACTIONS = (
    AuditAction.SUBMITTED,
    AuditAction.DECLINED,
    AuditAction.REOPENED,
    AuditAction.COMPLETED,
    AuditAction.RENEWED,
)


def send_for_event(event_id: int) -> None:
    """The mails a step of the workflow calls for, told by its audit event.

    The event says everything the mails need: the agreement, who acted, the reason and
    the voided signatures of a decline or reopen, the successor of a renewal, and its
    own hash (the audit head the completion mail carries). Its id keys the mails, so
    each recipient gets them once, however often this runs.
    """
    event = AuditEvent.objects.get(pk=event_id)
    key, details = f"event-{event.pk}", event.details
    match event.action:
        case AuditAction.SUBMITTED:
            send_sign_requests(agreement_id=event.agreement_id, actor_id=event.actor_id, key=key)
        case AuditAction.DECLINED | AuditAction.REOPENED:
            send_back_to_draft(
                action=event.action,
                agreement_id=event.agreement_id,
                actor_id=event.actor_id,
                reason=details["reason"],
                voided_ids=details["voided_signature_ids"],
                key=key,
            )
        case AuditAction.COMPLETED:
            send_completed(
                agreement_id=event.agreement_id,
                audit_head=event.hash,
                audit_head_sequence=event.sequence,
                key=key,
            )
        case AuditAction.RENEWED:
            send_renewed(agreement_id=details["successor_id"], actor_id=event.actor_id, key=key)
        case _:
            raise ValueError(f"Audit event {event_id} ({event.action}) calls for no mail.")


def send_sign_requests(*, agreement_id: int, actor_id: int, key: str) -> None:
    """ "Bitte unterzeichnen" to each representative, after a submit."""
    agreement = _agreement(agreement_id)
    with translation.override(settings.LANGUAGE_CODE):
        for party in Party:
            _send(
                "sign_request",
                gettext("Bitte unterzeichnen: %(title)s") % {"title": agreement},
                [agreement.representative(party)],
                agreement,
                key=f"{key}.{party.value}",
                actor_name=_name(_user(actor_id)),
                party_label=party.label,
                content_sha256=agreement.content_sha256,
            )


def send_back_to_draft(
    *,
    action: AuditAction,
    agreement_id: int,
    actor_id: int,
    reason: str,
    voided_ids: list[int],
    key: str,
) -> None:
    """ "Abgelehnt" (a decline) or "Zurück in Bearbeitung" (a reopen) to everyone involved
    but the person who sent the agreement back."""
    agreement = _agreement(agreement_id)
    if action == AuditAction.DECLINED:
        template, subject = "declined", gettext_lazy("Abgelehnt: %(title)s")
    else:
        template, subject = "reopened", gettext_lazy("Zurück in Bearbeitung: %(title)s")
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            template,
            str(subject) % {"title": agreement},
            [u for u in _involved(agreement) if u.pk != actor_id],
            agreement,
            key=key,
            actor_name=_name(_user(actor_id)),
            reason=reason,
            voided=_signature_lines(voided_ids),
        )


def send_completed(
    *, agreement_id: int, audit_head: str, audit_head_sequence: int, key: str
) -> None:
    """ "Unterzeichnet" to everyone involved and the organisation's management.

    The mail carries the trail's head at completion (the last event's number and hash):
    a copy outside the database that a trail shortened or rewritten later does not match.
    """
    agreement = _agreement(agreement_id)
    management = get_user_model().objects.filter(
        memberships__organisation_id=agreement.organisation_id,
        memberships__role=Role.MANAGEMENT,
    )
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "completed",
            gettext("Unterzeichnet: %(title)s") % {"title": agreement},
            [*_involved(agreement), *management],
            agreement,
            key=key,
            signatures=_signature_lines(agreement.signatures.valid().values_list("pk", flat=True)),
            content_sha256=agreement.content_sha256,
            audit_head=audit_head,
            audit_head_sequence=audit_head_sequence,
        )


def send_renewed(*, agreement_id: int, actor_id: int, key: str) -> None:
    """ "Erneuert" to the representatives of the new draft but the author who renewed."""
    agreement = _agreement(agreement_id)
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "renewed",
            gettext("Erneuerung begonnen: %(title)s") % {"title": agreement},
            [
                user
                for user in (agreement.marketing_representative, agreement.sales_representative)
                if user is not None and user.pk != actor_id
            ],
            agreement,
            key=key,
            actor_name=_name(_user(actor_id)),
            predecessor_title=_title(agreement.renews),
        )


def send_signature_reminder(*, agreement, recipient, days_waiting: int, key: str) -> None:
    """Reminder to a representative whose signature has been awaited for days."""
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "reminder_signature",
            gettext("Erinnerung: Bitte unterzeichnen: %(title)s") % {"title": agreement},
            [recipient],
            agreement,
            key=key,
            days_waiting=days_waiting,
            submitted_on=timezone.localtime(agreement.submitted_at).strftime("%d.%m.%Y"),
        )


def send_renewal_reminder(*, agreement, recipient, key: str) -> None:
    """Reminder to an author or to management that the renewal date is near."""
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "reminder_renewal",
            gettext("Erinnerung: Erneuerung fällig: %(title)s") % {"title": agreement},
            [recipient],
            agreement,
            key=key,
            renewal_date=agreement.renewal_date.strftime("%d.%m.%Y"),
        )


def agreement_link(agreement) -> str:
    return settings.SLA_SITE_URL + reverse("agreement_detail", args=[agreement.pk])


def _send(template: str, subject: str, recipients, agreement, *, key: str, **context) -> None:
    """Each recipient's mail once (``mail_deliver``), over one connection to the server."""
    seen = set()
    connection = get_connection()
    try:
        for user in recipients:
            if user is None or user.pk in seen or not user.is_active or not user.email:
                continue
            seen.add(user.pk)
            text = render_to_string(
                f"agreements/email/{template}.txt",
                {
                    **context,
                    "recipient_name": _name(user),
                    "title": _title(agreement),
                    "link": agreement_link(agreement),
                },
            )
            text = text.strip() + "\n"
            html = render_to_string(
                "agreements/email/message.html",
                {"body": html_body(text.strip(), agreement_link(agreement)), "subject": subject},
            )
            mail_deliver(
                key=f"{key}.{template}.user-{user.pk}",
                agreement_id=agreement.pk,
                recipient=user,
                subject=subject,
                text=text,
                html=html,
                connection=connection,
            )
    finally:
        connection.close()


def html_body(text: str, *links: str) -> str:
    """A mail's text as HTML paragraphs, in which only the portal's own ``links`` are links.

    What members typed (a decline's reason, a comment) is their text: a URL in it stays
    text, so a mail from the portal never carries someone's link to click.
    """
    paragraphs = linebreaks_filter(text, autoescape=True)
    if not links:
        return paragraphs
    # One pass, the longest link first: one link may start with another.
    pattern = "|".join(re.escape(escape(link)) for link in sorted(links, key=len, reverse=True))
    anchored = re.sub(
        pattern,
        lambda match: format_html('<a href="{}">{}</a>', unescape(match[0]), unescape(match[0])),
        paragraphs,
    )
    return mark_safe(anchored)  # noqa: S308 - escaped above, the links by format_html


def _title(agreement) -> str:
    """ "Leistungsvereinbarung der Muster AG vom 01.01.2027 bis 31.12.2027", for sentences."""
    if agreement.start_date and agreement.end_date:
        return gettext("Leistungsvereinbarung der %(organisation)s vom %(start)s bis %(end)s") % {
            "organisation": agreement.organisation,
            "start": agreement.start_date.strftime("%d.%m.%Y"),
            "end": agreement.end_date.strftime("%d.%m.%Y"),
        }
    return gettext("Leistungsvereinbarung der %(organisation)s") % {
        "organisation": agreement.organisation
    }


def _agreement(agreement_id: int) -> Agreement:
    return Agreement.objects.select_related(
        "organisation", "marketing_representative", "sales_representative", "created_by"
    ).get(pk=agreement_id)


def _user(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def _involved(agreement) -> list:
    """The representatives and the people who wrote the agreement."""
    return [
        agreement.marketing_representative,
        agreement.sales_representative,
        agreement.created_by,
        agreement.updated_by,
    ]


def _name(user) -> str:
    return display_name(user) if user is not None else gettext("Jemand")


def _signature_lines(signature_ids) -> list[str]:
    signatures = Signature.objects.filter(pk__in=list(signature_ids)).select_related("user")
    return [
        gettext("%(party)s: %(name)s, unterzeichnet am %(when)s")
        % {
            "party": Party(s.party).label,
            "name": s.typed_name,
            "when": timezone.localtime(s.signed_at).strftime("%d.%m.%Y um %H:%M Uhr"),
        }
        for s in signatures.order_by("signed_at")
    ]
