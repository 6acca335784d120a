"""Who may do what with an agreement: the one place that answers it.

Views fetch agreements through ``get_agreement_for``; it answers 404 for an agreement
the user may not even know about (another organisation's) and 403 for one they may
see but not act on in the asked way.

Two kinds of answers live here. ``get_agreement_for`` decides *who* may ask for a
sign-off action at all (403 otherwise): the authors submit and reopen, the named
representatives sign and decline. The ``can_*`` predicates add *now*: whether the
button makes sense in the agreement's current state, mirroring the checks in
``agreements.workflow``. A request that passes the first but comes too late (a second
click after the status changed) is not forbidden; the workflow refuses it under the row
lock with a message, which the views show. The workflow has the last word, and asks
the same predicates here with ``fresh=True``: the role read from the database under its
row lock rather than the request's memo.

Also here: who reports which figures (``ACTUALS_FIELDS_BY_ROLE``) and whether an
agreement's content may still change at all (``content_editable``), which the admin,
the uploads and the wizard ask.
"""

from collections.abc import Sequence
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .enums import AUTHOR_ROLES, SIGNED_STATUSES, AgreementStatus, Party, Role
from .models import Agreement, Membership, Organisation, user_administered_organisations, user_roles


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    SUBMIT = "submit"
    SIGN = "sign"
    DECLINE = "decline"
    REOPEN = "reopen"
    RENEW = "renew"
    DOWNLOAD = "download"  # the PDF: the signed one, or a draft's preview
    VIEW_GOALS = "view_goals"  # the goals dashboard, its PDF and CSV (issue 8)
    ENTER_ACTUALS = "enter_actuals"  # report a period's figures (issue 8)


def role_in(user, organisation_id: int, *, fresh: bool = False) -> Role | None:
    """The user's role in the organisation, or None when they are not a member.

    From the request's memo of the user's roles (``user_roles``), or with ``fresh`` read
    now: the workflow asks inside its transaction, where a role changed a moment ago counts.
    """
    if fresh:
        role = (
            Membership.objects.filter(user=user, organisation_id=organisation_id)
            .values_list("role", flat=True)
            .first()
            if user.is_authenticated
            else None
        )
    else:
        role = user_roles(user).get(organisation_id)
    return Role(role) if role else None


def content_editable(agreement: Agreement) -> bool:
    """Only a draft's content changes; from its submission on it is frozen (models.frozen)."""
    return agreement.status == AgreementStatus.DRAFT


def may_create(user) -> bool:
    """Whether the user writes SLAs somewhere: a marketing or sales member of any organisation."""
    return any(role in AUTHOR_ROLES for role in user_roles(user).values())


def can_view(user, agreement: Agreement) -> bool:
    return role_in(user, agreement.organisation_id) is not None


def can_edit(user, agreement: Agreement) -> bool:
    """Marketing and sales members write drafts; management reads."""
    return content_editable(agreement) and is_author(user, agreement)


def author_organisations(user):
    """The organisations in which the user may start a new SLA (as marketing or sales)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        memberships__user=user, memberships__role__in=AUTHOR_ROLES
    ).distinct()


def is_author(user, agreement: Agreement, *, fresh: bool = False) -> bool:
    """A marketing or sales member of the agreement's organisation."""
    return role_in(user, agreement.organisation_id, fresh=fresh) in AUTHOR_ROLES


def represented_party(user, agreement: Agreement, *, fresh: bool = False) -> Party | None:
    """The party the user is the named representative of, in any state.

    Named on the agreement *and* still holding the party's role: a representative who
    changed roles no longer signs nor declines.
    """
    if not user.is_authenticated:
        return None
    role = role_in(user, agreement.organisation_id, fresh=fresh)
    for party in Party:
        if (
            getattr(agreement, f"{party.value}_representative_id") == user.pk
            and role == party.value
        ):
            return party
    return None


def can_submit(user, agreement: Agreement) -> bool:
    """An author may submit a draft; whether it is complete the review step shows."""
    return agreement.status == AgreementStatus.DRAFT and is_author(user, agreement)


def can_sign(user, agreement: Agreement) -> Party | None:
    """The party the user may sign for now, or None.

    Reads ``agreement.signatures.all()``: prefetch them when the page shows them anyway.
    """
    if agreement.status != AgreementStatus.AWAITING_SIGNATURES:
        return None
    party = represented_party(user, agreement)
    if party is None:
        return None
    if any(s.party == party and s.is_valid for s in agreement.signatures.all()):
        return None
    return party


def can_decline(user, agreement: Agreement) -> bool:
    """A representative may decline while signatures are awaited, even after signing."""
    return (
        agreement.status == AgreementStatus.AWAITING_SIGNATURES
        and represented_party(user, agreement) is not None
    )


def can_reopen(user, agreement: Agreement) -> bool:
    """An author may pull a submitted agreement back to draft before it is signed."""
    return agreement.status == AgreementStatus.AWAITING_SIGNATURES and is_author(user, agreement)


def can_renew(user, agreement: Agreement) -> bool:
    """An author may renew a signed agreement that has no successor yet.

    Asks the database whether a successor exists (one query).
    """
    return (
        agreement.status == AgreementStatus.SIGNED
        and is_author(user, agreement)
        and not Agreement.objects.filter(renews=agreement).exists()
    )


def can_view_goals(user, agreement: Agreement) -> bool:
    """Every member reads the goals of a signed (or superseded) agreement; drafts have none."""
    return agreement.status in SIGNED_STATUSES and can_view(user, agreement)


def can_enter_actuals(user, agreement: Agreement) -> bool:
    """Marketing and Sales report figures for a signed agreement; management reads.

    Which figures each may report: ``actuals_fields_for``.
    """
    return can_view_goals(user, agreement) and is_author(user, agreement)


# Who reports which of an agreement's Ist-Werte (agreements.actuals). Marketing hands over
# SQLs and sees the funnel up to SQL; Sales knows how fast it processed them and what
# they became (customers, revenue).
ACTUALS_FIELDS_BY_ROLE = {
    Role.MARKETING: (
        "sqls_handed_over",
        "funnel_visits",
        "funnel_target_accounts",
        "funnel_mql",
        "funnel_prospects",
        "funnel_sql",
    ),
    Role.SALES: ("leads_in_time", "revenue", "attributed_revenue", "funnel_customers"),
}


def actuals_fields_for(role: Role | None) -> tuple[str, ...]:
    """The figures a member of ``role`` reports; none for management or a non-member."""
    return ACTUALS_FIELDS_BY_ROLE.get(role, ())


def _is_representative(user, agreement: Agreement) -> bool:
    return represented_party(user, agreement) is not None


# Who may ask at all; see the module's docstring for why the sign-off actions ignore the state.
CHECKS = {
    Action.VIEW: can_view,
    Action.VIEW_GOALS: can_view_goals,
    Action.ENTER_ACTUALS: can_enter_actuals,
    Action.EDIT: can_edit,
    Action.SUBMIT: is_author,
    Action.REOPEN: is_author,
    Action.RENEW: is_author,
    Action.SIGN: _is_representative,
    Action.DECLINE: _is_representative,
    # Every member (marketing, sales, management) downloads what they may read.
    Action.DOWNLOAD: can_view,
}


def get_agreement_for(
    user, pk: int, action: Action = Action.VIEW, *, only: Sequence[str] = ()
) -> Agreement:
    """The agreement ``pk`` if ``user`` may perform ``action`` on it.

    Raises Http404 when the user may not see it at all, PermissionDenied when they
    may see it but not perform the action. ``only`` loads just these columns (and the
    organisation), for a view that needs a few of the SLA's hundred.
    """
    if only:
        agreements = Agreement.objects.select_related("organisation").only(*only)
    else:
        agreements = Agreement.objects.select_related(
            "organisation", "marketing_representative", "sales_representative", "updated_by"
        )
    try:
        agreement = agreements.get(pk=pk)
    except Agreement.DoesNotExist:
        raise Http404 from None
    if not can_view(user, agreement):
        raise Http404
    if not CHECKS[action](user, agreement):
        raise PermissionDenied
    return agreement


# --- Teams (agreements.team) -----------------------------------------------------------


def is_organisation_admin(user, organisation_id: int) -> bool:
    """Whether ``user`` administers the organisation's team (invites, roles, removals)."""
    return organisation_id in user_administered_organisations(user)


def get_organisation_for_admin(user, pk: int) -> Organisation:
    """The organisation ``pk`` if ``user`` administers its team.

    404 for someone outside it (staff included: a team is its organisation's business),
    403 for a member who is not one of its administrators.
    """
    if role_in(user, pk) is None:
        raise Http404
    if not is_organisation_admin(user, pk):
        raise PermissionDenied
    return Organisation.objects.get(pk=pk)


def can_create_organisation(user) -> bool:
    """Staff set up a new organisation and invite its first administrator."""
    return user.is_authenticated and user.is_staff
