"""Who a comment names with ``@``: read when it is saved (``comments``), and again by the
sweep that finds a mention mail whose task was lost (``mails``)."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from ..models import Agreement

MENTION = re.compile(r"@([\w.\-]+)")


def mentioned_members(agreement: Agreement, body: str, *, exclude=None) -> list:
    """The members of the organisation named with ``@`` in ``body``.

    ``@`` is followed by a user name, a first name, or first and last name joined by a
    dot (``@anna.keller``), in any case. A first name two members share names neither.
    """
    tokens = {token.casefold().rstrip(".-") for token in MENTION.findall(body)}
    if not tokens:
        return []
    members = get_user_model().objects.filter(
        memberships__organisation_id=agreement.organisation_id, is_active=True
    )
    first_names: dict[str, list] = {}
    for member in members:
        first_names.setdefault(member.first_name.casefold(), []).append(member)
    found = {}
    for member in members:
        names = {
            member.get_username().casefold(),
            f"{member.first_name}.{member.last_name}".casefold(),
        }
        if len(first_names.get(member.first_name.casefold(), [])) == 1 and member.first_name:
            names.add(member.first_name.casefold())
        if names & tokens and (exclude is None or member.pk != exclude.pk):
            found[member.pk] = member
    return list(found.values())
