"""The Team page and its actions, the page "Neue Organisation", the invitation's link.

Thin, like the portal's other views: ``permissions`` decides who may ask (404 outside the
organisation, 403 for a member who does not administer it), ``domain`` makes the change
and refuses what the rules forbid; a refusal comes back as a message on the Team page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.utils import complete_signup
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..models import Membership
from ..people import display_name
from ..permissions import can_create_organisation, get_organisation_for_admin
from . import domain
from .forms import InvitationForm, MembershipForm, NewAccountForm, OrganisationForm
from .models import Invitation, InvitationStatus, OrganisationEvent
from .tokens import invitation_for_token

EVENTS_SHOWN = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def team(request, pk: int):
    """The members, the open invitations, the form to invite and the team's log."""
    organisation = get_organisation_for_admin(request.user, pk)
    return _team_page(request, organisation, InvitationForm())


@login_required
@require_POST
def team_invite(request, pk: int):
    organisation = get_organisation_for_admin(request.user, pk)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = domain.invitation_create(
                organisation=organisation, actor=request.user, **form.cleaned_data
            )
        except domain.TeamRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("Die Einladung an %(email)s ist unterwegs; ihr Link gilt 7 Tage.")
                % {"email": invitation.email},
            )
            return redirect("team", pk=pk)
    # What was typed stays in the form, with the reason beside it.
    return _team_page(request, organisation, form, status=400)


@login_required
@require_POST
def team_member_change(request, pk: int, membership_pk: int):
    organisation = get_organisation_for_admin(request.user, pk)
    membership = get_object_or_404(Membership, pk=membership_pk, organisation=organisation)
    form = MembershipForm(request.POST, instance=Membership(organisation=organisation))
    if not form.is_valid():
        messages.error(request, _("Die Änderung war unvollständig; es wurde nichts geändert."))
        return redirect("team", pk=pk)
    try:
        membership = domain.membership_change(
            membership=membership, actor=request.user, **form.cleaned_data
        )
    except domain.TeamRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("%(name)s ist gespeichert.") % {"name": display_name(membership.user)}
        )
    return redirect("team", pk=pk)


@login_required
@require_POST
def team_member_remove(request, pk: int, membership_pk: int):
    organisation = get_organisation_for_admin(request.user, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    try:
        domain.membership_remove(membership=membership, actor=request.user)
    except domain.TeamRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("team", pk=pk)
    messages.success(
        request,
        _(
            "%(name)s gehört der Organisation nicht mehr an. Unterschriften und Verlauf "
            "bleiben mit dem Namen erhalten."
        )
        % {"name": display_name(membership.user)},
    )
    # An administrator who removed themselves no longer reaches the Team page.
    if membership.user_id == request.user.pk:
        return redirect("dashboard")
    return redirect("team", pk=pk)


@login_required
@require_POST
def team_invitation_resend(request, pk: int, invitation_pk: int):
    return _invitation_step(
        request,
        pk,
        invitation_pk,
        domain.invitation_resend,
        _("Die Einladung an %(email)s ist erneut unterwegs; der frühere Link gilt nicht mehr."),
    )


@login_required
@require_POST
def team_invitation_revoke(request, pk: int, invitation_pk: int):
    return _invitation_step(
        request,
        pk,
        invitation_pk,
        domain.invitation_revoke,
        _("Die Einladung an %(email)s ist widerrufen; ihr Link gilt nicht mehr."),
    )


def _invitation_step(request, pk: int, invitation_pk: int, step, done: str):
    """Resend or revoke an open invitation of the organisation, back to the Team page."""
    organisation = get_organisation_for_admin(request.user, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_pk, organisation=organisation)
    try:
        step(invitation=invitation, actor=request.user)
    except domain.TeamRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done % {"email": invitation.email})
    return redirect("team", pk=pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def organisation_create(request):
    """Staff: a new organisation and the invitation of its first administrator."""
    if not can_create_organisation(request.user):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = domain.organisation_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.message_dict.get("name", error.messages):
                form.add_error("name", message)
        except domain.TeamRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _(
                    "Die %(organisation)s ist angelegt. %(email)s erhält die Einladung als "
                    "Organisationsadministration."
                )
                % {"organisation": invitation.organisation, "email": invitation.email},
            )
            return redirect("organisation_create")
    status = 400 if request.method == "POST" else 200
    return render(request, "team/organisation_create.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token: str):
    """The link of the invitation mail: join with one click, or make an account first."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return _invitation_error(request, 404, None)
    if invitation.status != InvitationStatus.PENDING:
        return _invitation_error(request, 410, invitation)
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return _invitation_error(request, 403, invitation)
        if request.method == "POST":
            try:
                domain.invitation_accept(invitation=invitation, user=user)
            except (domain.TeamRefused, domain.InvitationUnusable) as refusal:
                messages.error(request, _refusal_text(refusal))
                return redirect("dashboard")
            messages.success(request, _joined(invitation))
            return redirect("dashboard")
        return render(request, "team/invitation_join.html", {"invitation": invitation})

    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    if has_account:
        login_url = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
        return render(
            request,
            "team/invitation_login.html",
            {"invitation": invitation, "login_url": login_url},
        )
    sso = invitation.organisation.require_sso
    form = NewAccountForm(request.POST or None, email=invitation.email, password=not sso)
    if request.method == "POST" and form.is_valid():
        try:
            new_user = domain.invitation_accept_new_account(
                invitation=invitation,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=None if sso else form.cleaned_data["password1"],
            )
        except (domain.TeamRefused, domain.InvitationUnusable) as refusal:
            form.add_error(None, _refusal_text(refusal))
        else:
            messages.success(request, _joined(invitation))
            if sso:
                messages.info(
                    request,
                    _("Melden Sie sich jetzt über die Anmeldung Ihrer Firma an (Single Sign-on)."),
                )
                return redirect("account_login")
            # allauth's own end of a sign-up: the log-in with its stages and signals.
            return complete_signup(
                request, new_user, EmailVerificationMethod.NONE, reverse("dashboard")
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "team/invitation_signup.html",
        {"invitation": invitation, "form": form, "sso": sso},
        status=status,
    )


def _team_page(request, organisation, invite_form, *, status=200):
    memberships = list(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    with_factor = set(
        Authenticator.objects.filter(
            user__in=[m.user_id for m in memberships],
            type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN],
        ).values_list("user_id", flat=True)
    )
    rows = [
        {
            "membership": membership,
            "form": MembershipForm(
                instance=membership,
                auto_id=f"member-{membership.pk}-%s",
                form_id=f"member-form-{membership.pk}",
            ),
            "second_factor": membership.user_id in with_factor,
        }
        for membership in memberships
    ]
    invitations = Invitation.objects.open().filter(organisation=organisation)
    events = OrganisationEvent.objects.filter(organisation=organisation)[:EVENTS_SHOWN]
    return render(
        request,
        "team/team.html",
        {
            "organisation": organisation,
            "rows": rows,
            "invitations": invitations.select_related("invited_by"),
            "invite_form": invite_form,
            "events": events,
        },
        status=status,
    )


def _invitation_error(request, status: int, invitation):
    """A clear page for a link that cannot be used: unknown, spent, or someone else's."""
    links = [(reverse("dashboard"), _("Zur Übersicht"))]
    if status == 404:
        title = _("Diese Einladung gibt es nicht")
        paragraphs = [
            _(
                "Der Link ist unvollständig oder wurde durch eine neuere Einladung ersetzt. "
                "Bitten Sie die Administration Ihrer Organisation, Ihnen die Einladung erneut "
                "zu senden."
            )
        ]
    elif status == 403:
        title = _("Diese Einladung gilt für eine andere Adresse")
        paragraphs = [
            _(
                "Die Einladung ist an %(email)s gerichtet; Sie sind mit einem anderen Konto "
                "angemeldet. Melden Sie sich ab und öffnen Sie den Link noch einmal."
            )
            % {"email": invitation.email}
        ]
    else:
        title = {
            InvitationStatus.ACCEPTED: _("Diese Einladung wurde schon angenommen"),
            InvitationStatus.REVOKED: _("Diese Einladung wurde widerrufen"),
            InvitationStatus.EXPIRED: _("Diese Einladung ist abgelaufen"),
        }[invitation.status]
        paragraphs = [
            _(
                "Ein Einladungslink gilt einmal und 7 Tage lang. Haben Sie schon ein Konto, "
                "melden Sie sich an; sonst bitten Sie die Administration der %(organisation)s "
                "um eine neue Einladung."
            )
            % {"organisation": invitation.organisation}
        ]
        links.insert(0, (reverse("account_login"), _("Zur Anmeldung")))
    return render(
        request,
        "errors/page.html",
        {"status": status, "title": title, "paragraphs": paragraphs, "links": links},
        status=status,
    )


def _refusal_text(refusal) -> str:
    if isinstance(refusal, domain.InvitationUnusable):
        return _("Diese Einladung kann nicht mehr angenommen werden (%(status)s).") % {
            "status": refusal.status.label
        }
    return str(refusal)


def _joined(invitation) -> str:
    return _("Willkommen bei der %(organisation)s: Sie sind dabei als %(role)s.") % {
        "organisation": invitation.organisation,
        "role": invitation.get_role_display(),
    }
