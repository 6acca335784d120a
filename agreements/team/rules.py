"""The rules that keep an organisation able to work and its SLAs valid (issue 20, item 4).

- An organisation always keeps at least one administrator.
- Whoever represents a party on an SLA awaiting signatures stays a member with that
  party's role until the SLA is signed, declined or handed to someone else: otherwise
  the SLA would wait for a signature nobody may give.

Each check raises ``TeamRefused`` with a German sentence for the Team page; the callers
(``agreements.team.domain``) run them under the organisation's row lock, so two
administrators removing each other cannot both pass.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..enums import AgreementStatus, Party
from ..models import Agreement, Membership


class TeamRefused(Exception):
    """A change of a team the rules do not allow; the message says why, in German."""


def refuse_losing_last_admin(membership: Membership) -> None:
    """Refuse when ``membership`` is the organisation's only administrator."""
    if not membership.is_admin:
        return
    others = (
        Membership.objects.admins()
        .filter(organisation_id=membership.organisation_id)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise last_admin_refused(membership)


def last_admin_refused(membership: Membership) -> TeamRefused:
    """The refusal of a change that would leave ``membership``'s organisation without an
    administrator (``membership``: one of its administrators now)."""
    return TeamRefused(
        _(
            "%(name)s ist die einzige Administration der %(organisation)s. Ernennen Sie "
            "zuerst eine weitere Person zur Organisationsadministration."
        )
        % {"name": person_name(membership.user), "organisation": membership.organisation}
    )


def refuse_losing_signing_role(membership: Membership, *, new_role: str | None) -> None:
    """Refuse when the person represents a party on an SLA awaiting signatures and would
    no longer hold that party's role (``new_role`` None: removed from the organisation)."""
    for party in Party:
        if membership.role != party.value or new_role == party.value:
            continue
        agreement = (
            Agreement.objects.filter(
                organisation_id=membership.organisation_id,
                status=AgreementStatus.AWAITING_SIGNATURES,
                **{f"{party.value}_representative_id": membership.user_id},
            )
            .order_by("start_date", "pk")
            .first()
        )
        if agreement is not None:
            raise TeamRefused(
                _(
                    "%(name)s vertritt %(party)s im «%(agreement)s», das auf Unterschriften "
                    "wartet. Erst wenn es unterzeichnet, abgelehnt oder einer anderen Person "
                    "zugewiesen ist, kann %(name)s entfernt werden oder die Rolle wechseln."
                )
                % {
                    "name": person_name(membership.user),
                    "party": party.label,
                    "agreement": agreement,
                }
            )


def person_name(user) -> str:
    return user.get_full_name() or user.email or user.get_username()
