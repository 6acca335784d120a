"""Teams (issue 20): an organisation's administrators invite people, set roles, remove them.

Through the pages as an administrator uses them, and the invitation mail's link as the
invited person follows it. Mails go out as tasks on commit (the immediate backend here,
``django_capture_on_commit_callbacks`` standing in for the commit).
"""

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements.enums import Party, Role
from agreements.models import Agreement, Membership, Organisation
from agreements.outbox import MailDelivery
from agreements.team.models import Invitation, OrganisationEvent, TeamAction
from tests.factories import make_member, make_organisation, make_user, submit_agreement

LINK = re.compile(r"https?://[^/\s]+(/einladung/[^/\s]+/)")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a commit would run (the mail's task) after the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def muster(demo_agreement):
    """The demo's Muster AG; Claudia Meier (``management``) administers its team."""
    mail.outbox.clear()
    return demo_agreement.organisation


def logged_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def link_in(message) -> str:
    return LINK.search(message.body).group(1)


def invite(client, organisation, commit, **data) -> object:
    fields = {"email": "lea@muster.example", "role": Role.MARKETING, "job_title": "", **data}
    with commit():
        return client.post(reverse("team_invite", args=[organisation.pk]), fields)


def test_create_organisation_command_mails_its_first_administrator(db, commit):
    with commit():
        call_command("create_organisation", "Beispiel GmbH", "--admin", "chefin@beispiel.example")

    organisation = Organisation.objects.get(name="Beispiel GmbH")
    invitation = Invitation.objects.get(organisation=organisation)
    assert (invitation.email, invitation.is_admin, invitation.role) == (
        "chefin@beispiel.example",
        True,
        Role.MANAGEMENT,
    )
    [message] = mail.outbox
    assert message.to == ["chefin@beispiel.example"]
    assert "Beispiel GmbH" in message.subject
    assert link_in(message)
    assert MailDelivery.objects.get(address="chefin@beispiel.example").agreement is None
    actions = set(OrganisationEvent.objects.values_list("action", flat=True))
    assert actions == {TeamAction.ORGANISATION_CREATED, TeamAction.INVITED}


def test_create_organisation_command_refuses_a_name_in_use(db):
    make_organisation("Beispiel GmbH")
    with pytest.raises(CommandError):
        call_command("create_organisation", "Beispiel GmbH", "--admin", "a@beispiel.example")


def test_staff_create_an_organisation_in_the_portal(db, commit):
    staff = make_user("betrieb", is_staff=True)
    client = Client()
    client.force_login(staff)
    with commit():
        response = client.post(
            reverse("organisation_create"),
            {"name": "Neu AG", "admin_email": "it@neu.example", "admin_role": Role.SALES},
        )
    assert response.status_code == 302
    assert Invitation.objects.get(organisation__name="Neu AG").invited_by == staff
    assert len(mail.outbox) == 1


def test_only_staff_create_organisations(muster):
    response = logged_in("management").get(reverse("organisation_create"))
    assert response.status_code == 403


def test_team_page_lists_members_with_role_job_title_and_second_factor(muster):
    TOTP.activate(get_user_model().objects.get(username="marketing"), "JBSWY3DPEHPK3PXP")
    response = logged_in("management").get(reverse("team", args=[muster.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anna Keller" in page and "Leiterin Inbound Marketing" in page
    assert "Marco Brunner" in page and "Claudia Meier" in page
    [row] = [r for r in response.context["rows"] if r["membership"].user.username == "marketing"]
    assert row["second_factor"] is True
    assert f'href="/organisationen/{muster.pk}/team/"' in page  # the navigation's link


def test_team_page_is_for_the_organisations_administrators_only(muster):
    outsider = make_member(make_organisation("Andere AG"), Role.MARKETING)
    other = Client()
    other.force_login(outsider)
    assert other.get(reverse("team", args=[muster.pk])).status_code == 404
    assert logged_in("marketing").get(reverse("team", args=[muster.pk])).status_code == 403
    assert logged_in("admin").get(reverse("team", args=[muster.pk])).status_code == 404
    page = logged_in("marketing").get(reverse("dashboard")).content.decode()
    assert "/team/" not in page


def test_invited_person_sets_name_and_password_and_lands_with_the_role(muster, commit):
    response = invite(logged_in("management"), muster, commit, job_title="Content Lead")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["lea@muster.example"]

    visitor = Client()
    assert visitor.get(link_in(message)).status_code == 200
    response = visitor.post(
        link_in(message),
        {
            "first_name": "Lea",
            "last_name": "Frei",
            "password1": "ein-langes-Passwort-42",
            "password2": "ein-langes-Passwort-42",
        },
    )

    assert response.status_code == 302 and response.url == reverse("dashboard")
    lea = get_user_model().objects.get(email="lea@muster.example")
    membership = Membership.objects.get(user=lea, organisation=muster)
    assert (membership.role, membership.job_title) == (Role.MARKETING, "Content Lead")
    assert visitor.get(reverse("dashboard")).context["user"] == lea
    assert lea.emailaddress_set.get().verified
    assert OrganisationEvent.objects.filter(
        action=TeamAction.INVITATION_ACCEPTED, subject=lea
    ).exists()


def test_a_used_revoked_expired_or_foreign_link_gets_a_clear_page(muster, commit):
    admin = logged_in("management")
    invite(admin, muster, commit)
    link = link_in(mail.outbox[-1])
    invitation = Invitation.objects.get(email="lea@muster.example")

    assert Client().get(link.replace("-", "-0", 1)).status_code == 404
    assert Client().get("/einladung/kaputt/").status_code == 404

    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = Client().get(link)
    assert response.status_code == 410
    assert "Diese Einladung ist abgelaufen" in response.content.decode()

    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    admin.post(reverse("team_invitation_revoke", args=[muster.pk, invitation.pk]))
    response = Client().get(link)
    assert response.status_code == 410
    assert "widerrufen" in response.content.decode()


def test_a_link_works_once(muster, commit):
    invite(logged_in("management"), muster, commit)
    link = link_in(mail.outbox[-1])
    data = {"first_name": "Lea", "last_name": "Frei"}
    data |= {"password1": "ein-langes-Passwort-42", "password2": "ein-langes-Passwort-42"}
    Client().post(link, data)
    response = Client().get(link)
    assert response.status_code == 410
    assert "schon angenommen" in response.content.decode()


def test_resend_makes_a_new_link_and_voids_the_old_one(muster, commit):
    admin = logged_in("management")
    invite(admin, muster, commit)
    old_link = link_in(mail.outbox[-1])
    invitation = Invitation.objects.get(email="lea@muster.example")
    with commit():
        admin.post(reverse("team_invitation_resend", args=[muster.pk, invitation.pk]))
    new_link = link_in(mail.outbox[-1])
    assert new_link != old_link
    assert Client().get(old_link).status_code == 404
    assert Client().get(new_link).status_code == 200


def test_an_existing_account_joins_with_one_click(muster, commit):
    make_member(make_organisation("Andere AG"), Role.SALES, "tom", email="tom@andere.example")
    invite(logged_in("management"), muster, commit, email="Tom@andere.example", role=Role.SALES)
    link = link_in(mail.outbox[-1])

    tom = Client()
    response = tom.get(link)
    assert "Anmelden und beitreten" in response.content.decode()
    login = tom.post(response.context["login_url"], {"login": "tom", "password": "secret-pass-123"})
    assert login.url == link  # back to the invitation after logging in
    assert "Beitreten" in tom.get(link).content.decode()
    response = tom.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user__username="tom", organisation=muster).role == Role.SALES


def test_a_link_opened_by_another_account_is_refused(muster, commit):
    invite(logged_in("management"), muster, commit)
    link = link_in(mail.outbox[-1])
    response = logged_in("sales").post(link)
    assert response.status_code == 403
    assert not get_user_model().objects.filter(email="lea@muster.example").exists()


def test_an_sso_organisation_takes_no_password(muster, commit):
    Organisation.objects.filter(pk=muster.pk).update(require_sso=True)
    invite(logged_in("management"), muster, commit)
    link = link_in(mail.outbox[-1])
    response = Client().post(link, {"first_name": "Lea", "last_name": "Frei"})
    assert response.status_code == 302 and response.url == reverse("account_login")
    lea = get_user_model().objects.get(email="lea@muster.example")
    assert not lea.has_usable_password()
    assert Membership.objects.filter(user=lea, organisation=muster).exists()


def test_inviting_a_member_or_an_invited_address_twice_is_refused(muster, commit):
    admin = logged_in("management")
    response = invite(admin, muster, commit, email="marketing@muster.example")
    assert response.status_code == 400
    assert "schon an" in response.content.decode()
    invite(admin, muster, commit)
    response = invite(admin, muster, commit)
    assert "schon eingeladen" in response.content.decode()
    assert response.context["invite_form"]["email"].value() == "lea@muster.example"


def test_invitations_are_throttled_per_organisation(muster, commit, settings):
    settings.SLA_TEAM_INVITATIONS_PER_HOUR = 2
    admin = logged_in("management")
    invite(admin, muster, commit, email="a@muster.example")
    invite(admin, muster, commit, email="b@muster.example")
    response = invite(admin, muster, commit, email="c@muster.example")
    assert response.status_code == 400
    assert "in der letzten Stunde 2 Einladungen" in response.content.decode()
    assert len(mail.outbox) == 2
    # Another organisation's administrator is not held back by it.
    other = make_organisation("Andere AG")
    boss = make_member(other, Role.MANAGEMENT)
    Membership.objects.filter(user=boss).update(is_admin=True)
    client = Client()
    client.force_login(boss)
    assert invite(client, other, commit, email="c@muster.example").status_code == 302


def test_change_a_role_and_job_title_is_logged(muster):
    sales = Membership.objects.get(organisation=muster, role=Role.SALES)
    response = logged_in("management").post(
        reverse("team_member_change", args=[muster.pk, sales.pk]),
        {"role": Role.MANAGEMENT, "job_title": "COO"},
    )
    assert response.status_code == 302
    sales.refresh_from_db()
    assert (sales.role, sales.job_title) == (Role.MANAGEMENT, "COO")
    event = OrganisationEvent.objects.get(action=TeamAction.MEMBER_CHANGED)
    assert event.actor_name == "Claudia Meier" and event.subject_name == "Marco Brunner"
    assert "Rolle: Sales → Geschäftsleitung" in event.changes
    page = logged_in("management").get(reverse("team", args=[muster.pk])).content.decode()
    assert "Rolle: Sales → Geschäftsleitung" in page


def test_the_last_administrator_stays(muster):
    claudia = Membership.objects.get(organisation=muster, role=Role.MANAGEMENT)
    admin = logged_in("management")
    response = admin.post(reverse("team_member_remove", args=[muster.pk, claudia.pk]), follow=True)
    assert "einzige Administration" in response.content.decode()
    response = admin.post(
        reverse("team_member_change", args=[muster.pk, claudia.pk]),
        {"role": Role.MANAGEMENT, "job_title": "CEO"},  # is_admin unticked
        follow=True,
    )
    assert "einzige Administration" in response.content.decode()
    assert Membership.objects.get(pk=claudia.pk).is_admin


def test_a_representative_of_an_sla_awaiting_signatures_stays(muster):
    agreement = submit_agreement(muster.agreements.get(start_date__year=2027))
    anna = Membership.objects.get(organisation=muster, role=Role.MARKETING)
    admin = logged_in("management")

    response = admin.post(reverse("team_member_remove", args=[muster.pk, anna.pk]), follow=True)
    page = response.content.decode()
    assert "Anna Keller vertritt Marketing" in page
    assert str(agreement) in page
    response = admin.post(
        reverse("team_member_change", args=[muster.pk, anna.pk]),
        {"role": Role.SALES, "job_title": ""},
        follow=True,
    )
    assert "vertritt Marketing" in response.content.decode()
    assert Membership.objects.get(pk=anna.pk).role == Role.MARKETING
    # Her job title may change: it is not the signing role.
    admin.post(
        reverse("team_member_change", args=[muster.pk, anna.pk]),
        {"role": Role.MARKETING, "job_title": "Head of Marketing"},
    )
    assert Membership.objects.get(pk=anna.pk).job_title == "Head of Marketing"


def test_a_removed_person_loses_access_but_their_signature_keeps_the_name(muster):
    signed = Agreement.objects.get(organisation=muster, start_date__year=2026)
    marco = Membership.objects.get(organisation=muster, role=Role.SALES)
    marco_client = logged_in("sales")
    assert marco_client.get(reverse("agreement_detail", args=[signed.pk])).status_code == 200

    response = logged_in("management").post(
        reverse("team_member_remove", args=[muster.pk, marco.pk])
    )

    assert response.status_code == 302
    assert marco_client.get(reverse("agreement_detail", args=[signed.pk])).status_code == 404
    page = logged_in("marketing").get(reverse("agreement_detail", args=[signed.pk]))
    assert "Marco Brunner" in page.content.decode()
    assert signed.signatures.get(party=Party.SALES).user.username == "sales"
    event = OrganisationEvent.objects.get(action=TeamAction.MEMBER_REMOVED)
    assert (event.actor_name, event.subject_name) == ("Claudia Meier", "Marco Brunner")


def test_an_invitation_mail_for_a_revoked_invitation_is_not_sent(
    muster, django_capture_on_commit_callbacks
):
    from agreements.team.mails import send_invitation

    with django_capture_on_commit_callbacks(execute=False):
        logged_in("management").post(
            reverse("team_invite", args=[muster.pk]),
            {"email": "lea@muster.example", "role": Role.SALES},
        )
    invitation = Invitation.objects.get(email="lea@muster.example")
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    assert send_invitation(invitation.pk) is False
    assert mail.outbox == []


def test_the_team_page_in_english(muster):
    client = logged_in("management")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("team", args=[muster.pk])).content.decode()
    assert "Invite someone" in page


def test_a_revoked_invitation_is_neither_revoked_nor_resent_again(muster, commit):
    admin = logged_in("management")
    invite(admin, muster, commit)
    invitation = Invitation.objects.get(email="lea@muster.example")
    admin.post(reverse("team_invitation_revoke", args=[muster.pk, invitation.pk]))
    response = admin.post(
        reverse("team_invitation_resend", args=[muster.pk, invitation.pk]), follow=True
    )
    assert "Die Einladung an lea@muster.example ist schon widerrufen." in response.content.decode()
    assert len(mail.outbox) == 1


def test_an_administrator_may_leave_once_another_one_is_there(muster):
    anna = Membership.objects.get(organisation=muster, role=Role.MARKETING)
    claudia = Membership.objects.get(organisation=muster, role=Role.MANAGEMENT)
    admin = logged_in("management")
    admin.post(
        reverse("team_member_change", args=[muster.pk, anna.pk]),
        {"role": Role.MARKETING, "job_title": anna.job_title, "is_admin": "on"},
    )
    response = admin.post(reverse("team_member_remove", args=[muster.pk, claudia.pk]))
    assert response.url == reverse("dashboard")
    assert admin.get(reverse("team", args=[muster.pk])).status_code == 404
    assert logged_in("marketing").get(reverse("team", args=[muster.pk])).status_code == 200
