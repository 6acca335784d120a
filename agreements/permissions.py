"""Who may do what with an agreement: the one place that answers it.

Views fetch agreements through ``get_agreement_for``; it answers 404 for an agreement
the user may not even know about (another organisation's) and 403 for one they may
see but not act on in the asked way.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .enums import AgreementStatus, Role
from .models import Agreement, Membership, Organisation


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"


AUTHOR_ROLES = frozenset({Role.MARKETING, Role.SALES})


def role_in(user, organisation_id: int) -> Role | None:
    """The user's role in the organisation, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_sla_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._sla_roles = cache
    role = cache.get(organisation_id)
    return Role(role) if role else None


def can_view(user, agreement: Agreement) -> bool:
    return role_in(user, agreement.organisation_id) is not None


def can_edit(user, agreement: Agreement) -> bool:
    """Marketing and sales members write drafts; management reads."""
    return (
        agreement.status == AgreementStatus.DRAFT
        and role_in(user, agreement.organisation_id) in AUTHOR_ROLES
    )


def author_organisations(user):
    """The organisations in which the user may start a new SLA (as marketing or sales)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        memberships__user=user, memberships__role__in=AUTHOR_ROLES
    ).distinct()


CHECKS = {Action.VIEW: can_view, Action.EDIT: can_edit}


def get_agreement_for(user, pk: int, action: Action = Action.VIEW) -> Agreement:
    """The agreement ``pk`` if ``user`` may perform ``action`` on it.

    Raises Http404 when the user may not see it at all, PermissionDenied when they
    may see it but not perform the action.
    """
    try:
        agreement = Agreement.objects.select_related(
            "organisation", "marketing_representative", "sales_representative", "updated_by"
        ).get(pk=pk)
    except Agreement.DoesNotExist:
        raise Http404 from None
    if not can_view(user, agreement):
        raise Http404
    if not CHECKS[action](user, agreement):
        raise PermissionDenied
    return agreement
