"""Every change of a team, one function each: create an organisation, invite, resend,
revoke, accept, add a member (staff), change a member, remove one.

Each runs in one transaction holding the organisation's row lock, so the rules
(``agreements.team.rules``) see the team as it is, writes its ``OrganisationEvent``
and, where an invitation mail is due, enqueues its task once the transaction commits.
The Team page, the page "Neue Organisation", ``manage.py create_organisation`` and the
Django admin (``agreements.team.admin``) call these; besides them only the demo data
writes memberships.
"""

from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..enums import Role
from ..models import Membership, Organisation
from ..tasks.engine import enqueue_on_commit
from .models import (
    INVITATION_VALID_FOR,
    MAIL_ACTIONS,
    Invitation,
    InvitationStatus,
    OrganisationEvent,
    TeamAction,
    new_nonce,
)
from .rules import TeamRefused, person_name, refuse_losing_last_admin, refuse_losing_signing_role
from .tasks import invitation_mail_task


def organisation_create(
    *,
    name: str,
    admin_email: str,
    admin_role: str = Role.MANAGEMENT,
    admin_job_title: str = "",
    actor=None,
) -> Invitation:
    """A new organisation and the invitation of its first administrator.

    ``actor`` is the staff user on the page "Neue Organisation", None for
    ``manage.py create_organisation``. Raises ``ValidationError`` for a name in use.
    """
    organisation = Organisation(name=name.strip())
    organisation.full_clean()
    with transaction.atomic():
        organisation.save()
        _record(organisation=organisation, action=TeamAction.ORGANISATION_CREATED, actor=actor)
        return _invite(
            organisation=organisation,
            email=admin_email,
            role=admin_role,
            job_title=admin_job_title,
            is_admin=True,
            actor=actor,
        )


def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    job_title: str = "",
    is_admin: bool = False,
    actor,
) -> Invitation:
    """Invite ``email`` to ``organisation`` with a role; the mail goes out as a task.

    Refused (``TeamRefused``) for a member's address, an address with an open
    invitation (resend that one) and beyond the organisation's hourly limit.
    """
    with transaction.atomic():
        organisation = _lock(organisation.pk)
        return _invite(
            organisation=organisation,
            email=email,
            role=role,
            job_title=job_title,
            is_admin=is_admin,
            actor=actor,
        )


def invitation_resend(*, invitation: Invitation, actor) -> Invitation:
    """A new link (the old one stops working), valid 7 days from now, mailed again."""
    with transaction.atomic():
        organisation, invitation = _lock_open(invitation)
        _refuse_throttled(organisation)
        now = timezone.now()
        invitation.nonce = new_nonce()
        invitation.sent_at = now
        invitation.expires_at = now + INVITATION_VALID_FOR
        invitation.save(update_fields=["nonce", "sent_at", "expires_at"])
        _record(
            organisation=organisation,
            action=TeamAction.INVITATION_RESENT,
            actor=actor,
            subject_name=invitation.email,
            invitation=invitation,
        )
        enqueue_on_commit(invitation_mail_task, invitation_id=invitation.pk)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """The link stops working at once; the row stays, for the log."""
    with transaction.atomic():
        organisation, invitation = _lock_open(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _record(
            organisation=organisation,
            action=TeamAction.INVITATION_REVOKED,
            actor=actor,
            subject_name=invitation.email,
            invitation=invitation,
        )
    return invitation


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """``user`` joins with the invitation's role: once, while it is valid, for its address."""
    with transaction.atomic():
        organisation = _lock(invitation.organisation_id)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        refuse_unusable(invitation)
        if user.email.lower() != invitation.email.lower():
            raise TeamRefused(
                _("Diese Einladung gilt für %(email)s, nicht für Ihr Konto.")
                % {"email": invitation.email}
            )
        if Membership.objects.filter(organisation=organisation, user=user).exists():
            raise TeamRefused(
                _("Sie gehören der %(organisation)s schon an.") % {"organisation": organisation}
            )
        membership = Membership(
            user=user,
            organisation=organisation,
            role=invitation.role,
            job_title=invitation.job_title,
            is_admin=invitation.is_admin,
        )
        membership.full_clean()
        membership.save()
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _record(
            organisation=organisation,
            action=TeamAction.INVITATION_ACCEPTED,
            actor=user,
            subject=user,
            invitation=invitation,
            details=_membership_details(membership),
        )
    return membership


def invitation_accept_new_account(
    *, invitation: Invitation, first_name: str, last_name: str, password: str | None
):
    """Make the invited person's account and let it join; returns the new user.

    The address is recorded as verified (the link reached it). Without ``password``
    (an organisation that requires single sign-on) the account has none: its owner logs
    in through the provider, which links to it by that verified address.
    """
    User = get_user_model()
    with transaction.atomic():
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise TeamRefused(
                _("Für %(email)s gibt es schon ein Konto. Melden Sie sich an, um beizutreten.")
                % {"email": invitation.email}
            )
        user = User(
            username=_free_username(invitation.email),
            email=invitation.email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
        invitation_accept(invitation=invitation, user=user)
    return user


def membership_add(membership: Membership, *, actor) -> Membership:
    """Save ``membership`` (new: an existing account, an organisation, a role); logged.

    Staff add people this way in the admin; the Team page invites them instead.
    """
    with transaction.atomic():
        organisation = _lock(membership.organisation_id)
        membership.job_title = membership.job_title.strip()
        membership.full_clean()
        membership.save()
        _record(
            organisation=organisation,
            action=TeamAction.MEMBER_ADDED,
            actor=actor,
            subject=membership.user,
            details=_membership_details(membership),
        )
    return membership


def membership_change(
    *, membership: Membership, actor, role: str, job_title: str, is_admin: bool
) -> Membership:
    """Change a member's role, job title or administration, within the rules."""
    with transaction.atomic():
        organisation = _lock(membership.organisation_id)
        membership = Membership.objects.select_related("user", "organisation").get(pk=membership.pk)
        before = _membership_details(membership)
        if role != membership.role:
            refuse_losing_signing_role(membership, new_role=role)
        if membership.is_admin and not is_admin:
            refuse_losing_last_admin(membership)
        membership.role = role
        membership.job_title = job_title.strip()
        membership.is_admin = is_admin
        membership.full_clean()
        after = _membership_details(membership)
        changed = {
            name: [before[name], after[name]] for name in after if before[name] != after[name]
        }
        if not changed:
            return membership
        membership.save(update_fields=["role", "job_title", "is_admin"])
        _record(
            organisation=organisation,
            action=TeamAction.MEMBER_CHANGED,
            actor=actor,
            subject=membership.user,
            details=changed,
        )
    return membership


def membership_remove(*, membership: Membership, actor) -> None:
    """Take a person out of the organisation: their next request no longer reaches it.

    Their account, signatures, audit events and authorship stay, with their name.
    """
    with transaction.atomic():
        organisation = _lock(membership.organisation_id)
        membership = Membership.objects.select_related("user", "organisation").get(pk=membership.pk)
        refuse_losing_signing_role(membership, new_role=None)
        refuse_losing_last_admin(membership)
        details = _membership_details(membership)
        user = membership.user
        membership.delete()
        _record(
            organisation=organisation,
            action=TeamAction.MEMBER_REMOVED,
            actor=actor,
            subject=user,
            details=details,
        )


def refuse_unusable(invitation: Invitation) -> None:
    """Raise ``InvitationUnusable`` unless the invitation can be accepted now."""
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationUnusable(invitation.status)


class InvitationUnusable(Exception):
    """An invitation that was accepted, revoked or has expired; ``status`` says which."""

    def __init__(self, status: InvitationStatus):
        super().__init__(status)
        self.status = status


def invitations_sent_recently(organisation: Organisation) -> int:
    """Invitation mails of the organisation in the last hour (invitations and resends)."""
    since = timezone.now() - datetime.timedelta(hours=1)
    return OrganisationEvent.objects.filter(
        organisation=organisation, action__in=MAIL_ACTIONS, created_at__gte=since
    ).count()


def _invite(*, organisation, email, role, job_title, is_admin, actor) -> Invitation:
    email = email.strip()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise TeamRefused(
            _("%(email)s gehört der %(organisation)s schon an.")
            % {"email": email, "organisation": organisation}
        )
    if Invitation.objects.open().filter(organisation=organisation, email__iexact=email).exists():
        raise TeamRefused(
            _(
                "%(email)s ist schon eingeladen. Senden Sie die Einladung erneut, wenn die Mail "
                "nicht angekommen ist."
            )
            % {"email": email}
        )
    _refuse_throttled(organisation)
    now = timezone.now()
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        job_title=job_title.strip(),
        is_admin=is_admin,
        invited_by=actor,
        created_at=now,
        sent_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    invitation.full_clean()
    invitation.save()
    _record(
        organisation=organisation,
        action=TeamAction.INVITED,
        actor=actor,
        subject_name=email,
        invitation=invitation,
        details={"role": role, "job_title": invitation.job_title, "is_admin": is_admin},
    )
    enqueue_on_commit(invitation_mail_task, invitation_id=invitation.pk)
    return invitation


def _refuse_throttled(organisation: Organisation) -> None:
    limit = settings.SLA_TEAM_INVITATIONS_PER_HOUR
    if invitations_sent_recently(organisation) >= limit:
        raise TeamRefused(
            _(
                "Die %(organisation)s hat in der letzten Stunde %(limit)s Einladungen "
                "gesendet, so viele wie erlaubt. Bitte versuchen Sie es später noch einmal."
            )
            % {"organisation": organisation, "limit": limit}
        )


def _lock(organisation_id: int) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation_id)


def _lock_open(invitation: Invitation) -> tuple[Organisation, Invitation]:
    """The organisation and the invitation, locked; refused unless it is still open
    (pending, or expired: a resend renews it, a revoke closes it)."""
    organisation = _lock(invitation.organisation_id)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        raise TeamRefused(
            _("Die Einladung an %(email)s ist schon %(status)s.")
            % {"email": invitation.email, "status": invitation.get_status_display().lower()}
        )
    return organisation, invitation


def _record(
    *, organisation, action, actor, subject=None, subject_name="", invitation=None, details=None
) -> OrganisationEvent:
    return OrganisationEvent.objects.create(
        organisation=organisation,
        action=action,
        actor=actor,
        actor_name=person_name(actor) if actor is not None else _("Betrieb (Kommandozeile)"),
        subject=subject,
        subject_name=person_name(subject) if subject is not None else subject_name,
        invitation=invitation,
        details=details or {},
    )


def _membership_details(membership: Membership) -> dict:
    return {
        "role": membership.role,
        "job_title": membership.job_title,
        "is_admin": membership.is_admin,
    }


def _free_username(email: str) -> str:
    """The address as the user name (people log in with it), or a numbered one if taken."""
    User = get_user_model()
    base = email.lower()[:140]
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate
