"""The mails of the sign-off and renewal, sent by ``agreements.workflow`` after its transaction
commits, and the reminders of ``agreements.reminders``.

Each mail is plain text from ``templates/agreements/email/<name>.txt`` with an HTML part
made from that same text (``message.html``), so both parts always say the same. They go
to other people than the one whose request sent them, so they are written in the
portal's language, not the requester's. Users without an e-mail address, or inactive
ones, are skipped. Links point to the agreement page, which asks for a login first.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from .enums import Party, Role
from .models import Agreement, Signature


def send_sign_requests(*, agreement_id: int, actor_id: int) -> None:
    """ "Bitte unterzeichnen" to each representative, after a submit."""
    agreement = _agreement(agreement_id)
    with translation.override(settings.LANGUAGE_CODE):
        for party in Party:
            _send(
                "sign_request",
                gettext("Bitte unterzeichnen: %(title)s") % {"title": agreement},
                [agreement.representative(party)],
                agreement,
                actor_name=_name(_user(actor_id)),
                party_label=party.label,
                content_sha256=agreement.content_sha256,
            )


def send_declined(*, agreement_id: int, actor_id: int, reason: str, voided_ids: list[int]) -> None:
    """ "Abgelehnt" to everyone involved but the representative who declined."""
    agreement = _agreement(agreement_id)
    actor = _user(actor_id)
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "declined",
            gettext("Abgelehnt: %(title)s") % {"title": agreement},
            [u for u in _involved(agreement) if u.pk != actor_id],
            agreement,
            actor_name=_name(actor),
            reason=reason,
            voided=_signature_lines(voided_ids),
        )


def send_reopened(*, agreement_id: int, actor_id: int, reason: str, voided_ids: list[int]) -> None:
    """ "Zurück in Bearbeitung" to everyone involved but the author who reopened."""
    agreement = _agreement(agreement_id)
    actor = _user(actor_id)
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "reopened",
            gettext("Zurück in Bearbeitung: %(title)s") % {"title": agreement},
            [u for u in _involved(agreement) if u.pk != actor_id],
            agreement,
            actor_name=_name(actor),
            reason=reason,
            voided=_signature_lines(voided_ids),
        )


def send_completed(*, agreement_id: int, audit_head: str) -> None:
    """ "Unterzeichnet" to everyone involved and the organisation's management."""
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
            signatures=_signature_lines(agreement.signatures.valid().values_list("pk", flat=True)),
            content_sha256=agreement.content_sha256,
            audit_head=audit_head,
        )


def send_renewed(*, agreement_id: int, actor_id: int) -> None:
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
            actor_name=_name(_user(actor_id)),
            predecessor_title=_title(agreement.renews),
        )


def send_signature_reminder(*, agreement, recipient, days_waiting: int) -> None:
    """Reminder to a representative whose signature has been awaited for days."""
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "reminder_signature",
            gettext("Erinnerung: Bitte unterzeichnen: %(title)s") % {"title": agreement},
            [recipient],
            agreement,
            days_waiting=days_waiting,
            submitted_on=timezone.localtime(agreement.submitted_at).strftime("%d.%m.%Y"),
        )


def send_renewal_reminder(*, agreement, recipient) -> None:
    """Reminder to an author or to management that the renewal date is near."""
    with translation.override(settings.LANGUAGE_CODE):
        _send(
            "reminder_renewal",
            gettext("Erinnerung: Erneuerung fällig: %(title)s") % {"title": agreement},
            [recipient],
            agreement,
            renewal_date=agreement.renewal_date.strftime("%d.%m.%Y"),
        )


def agreement_link(agreement) -> str:
    return settings.SLA_SITE_URL + reverse("agreement_detail", args=[agreement.pk])


def _send(template: str, subject: str, recipients, agreement, **context) -> None:
    seen = set()
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
            "agreements/email/message.html", {"text": text.strip(), "subject": subject}
        )
        send_mail(subject, text, None, [user.email], html_message=html)


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
    if user is None:
        return gettext("Jemand")
    return user.get_full_name() or user.get_username()


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
