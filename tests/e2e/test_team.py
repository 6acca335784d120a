"""Onboarding without the Django admin (issue 20), in the browser from start to end.

A staff user creates an organisation; its first administrator accepts the mail's link and
invites a marketing and a sales lead, who accept theirs, and the two sign an SLA; the
administrator changes a role, removes a member and revokes an invitation, and the rules
that keep SLAs valid refuse with a message. The mails are read from Django's outbox:
the invitation's task runs when the live server's request commits (the immediate
backend, tests/conftest.py).
"""

import re

from django.core import mail
from playwright.sync_api import expect

from agreements.demo import _create_agreement
from agreements.enums import AgreementStatus, Role
from agreements.models import Agreement, Membership, Organisation
from tests.factories import make_user

from .test_signing import sign

LINK = re.compile(r"https?://[^/\s]+(/einladung/[^/\s]+/)")
PASSWORD = "Alpen-Passwort-2027"


def mailed_link(address: str) -> str:
    """The path of the newest invitation link mailed to ``address``."""
    messages = [m for m in mail.outbox if address in m.to]
    assert messages, f"no mail to {address}"
    return LINK.search(messages[-1].body).group(1)


def accept(page, live_server, address: str, first_name: str, last_name: str) -> None:
    """Follow the mailed link as a visitor, set name and password, land on the dashboard."""
    page.goto(live_server.url + mailed_link(address))
    page.get_by_label("Vorname").fill(first_name)
    page.get_by_label("Nachname").fill(last_name)
    page.locator("#id_password1").fill(PASSWORD)  # its label is also in "Passwort wiederholen"
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Konto anlegen und beitreten").click()
    page.wait_for_url(f"{live_server.url}/", timeout=30_000)
    expect(page.get_by_role("status").filter(has_text="Willkommen")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="Abmelden").click()


def invite(page, email: str, role: str, job_title: str) -> None:
    form = page.locator("#invite")
    form.get_by_label("E-Mail-Adresse").fill(email)
    form.get_by_label("Rolle").select_option(label=role)
    form.get_by_label("Funktion").fill(job_title)
    form.get_by_role("button", name="Einladung senden").click()
    expect(page.get_by_role("status").filter(has_text=f"an {email} ist unterwegs")).to_be_visible()


def member_row(page, name: str):
    return page.locator("#members tbody tr").filter(has_text=name)


def test_an_organisation_sets_itself_up_and_signs_an_sla(page, live_server, login, screenshot):
    make_user("betrieb", password="demo", is_staff=True)

    # Staff: the page "Neue Organisation".
    login("betrieb")
    page.get_by_role("link", name="Neue Organisation").click()
    page.get_by_label("Name der Organisation").fill("Alpen AG")
    page.get_by_label("E-Mail-Adresse der Administration").fill("claudia@alpen.example")
    page.get_by_label("Funktion").fill("CEO")
    page.get_by_role("button", name="Anlegen und einladen").click()
    expect(page.get_by_role("status").filter(has_text="Alpen AG ist angelegt")).to_be_visible()
    log_out(page)

    # The first administrator accepts and invites marketing and sales.
    accept(page, live_server, "claudia@alpen.example", "Claudia", "Berg")
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    invite(page, "anna@alpen.example", "Marketing", "Leiterin Marketing")
    invite(page, "marco@alpen.example", "Sales", "Leiter Sales")
    invite(page, "petra@alpen.example", "Geschäftsleitung", "CFO")
    expect(page.locator("#invitations")).to_contain_text("anna@alpen.example")
    screenshot("team-invited")
    log_out(page)

    accept(page, live_server, "anna@alpen.example", "Anna", "Alder")
    # Marketing writes: the dashboard offers a new SLA, with Marco as sales' representative.
    page.get_by_role("link", name="Neues SLA").first.click()
    page.get_by_label("Gültig ab").fill("01.01.2028")
    page.get_by_label("Gültig bis").fill("31.12.2028")
    page.get_by_label("Geschäftseinheit (geografisch)").fill("Graubünden")
    page.get_by_label("Gruppe / Untergruppe").fill("KMU")
    page.get_by_role("button", name="SLA anlegen").click()
    expect(page.get_by_role("heading", name="Parteien", exact=True)).to_be_visible()
    log_out(page)
    accept(page, live_server, "marco@alpen.example", "Marco", "Caduff")
    log_out(page)

    # The draft the two write (the wizard's every step is tests/e2e/test_wizard.py's), with
    # the demo's complete text; marketing submits it, the two sign it in the browser.
    organisation = Organisation.objects.get(name="Alpen AG")
    people = {m.role: m.user for m in Membership.objects.filter(organisation=organisation)}
    agreement = _create_agreement(organisation, people, year=2029)
    detail = f"{live_server.url}/agreements/{agreement.pk}/"
    login("anna@alpen.example", PASSWORD)
    page.goto(f"{detail}bearbeiten/pruefen/")
    page.get_by_role("button", name="Zur Unterzeichnung einreichen").click()
    page.wait_for_url(detail)
    log_out(page)

    # While the SLA awaits signatures, its sales representative cannot be removed.
    login("claudia@alpen.example", PASSWORD)
    page.get_by_role("link", name="Team").click()
    member_row(page, "Marco Caduff").get_by_role("button", name="Entfernen").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Marco Caduff vertritt Sales")
    expect(refusal).to_contain_text(str(agreement))
    # Nor can the only administrator remove herself.
    member_row(page, "Claudia Berg").get_by_role("button", name="Entfernen").click()
    expect(page.get_by_role("alert")).to_contain_text("einzige Administration")
    screenshot("team-refused")
    log_out(page)

    for username, name, party in (
        ("marco@alpen.example", "Marco Caduff", "Sales"),
        ("anna@alpen.example", "Anna Alder", "Marketing"),
    ):
        login(username, PASSWORD)
        page.goto(detail)
        page.get_by_role("link", name=f"Unterzeichnen für {party}").click()
        sign(page, name=name, password=PASSWORD)
        page.wait_for_url(detail)
        log_out(page)
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.SIGNED

    # The administrator changes a role, removes a member and revokes an invitation.
    login("claudia@alpen.example", PASSWORD)
    page.get_by_role("link", name="Team").click()
    row = member_row(page, "Marco Caduff")
    row.get_by_label("Rolle").select_option(label="Geschäftsleitung")
    row.get_by_label("Funktion").fill("Leiter Vertrieb")
    row.get_by_role("button", name="Speichern").click()
    expect(
        page.get_by_role("status").filter(has_text="Marco Caduff ist gespeichert")
    ).to_be_visible()
    member_row(page, "Anna Alder").get_by_role("button", name="Entfernen").click()
    expect(page.get_by_role("status").filter(has_text="Anna Alder gehört")).to_be_visible()
    invitation_row = page.locator("#invitations tbody tr").filter(has_text="petra@alpen.example")
    invitation_row.get_by_role("button", name="Widerrufen").click()
    expect(page.get_by_role("status").filter(has_text="widerrufen")).to_be_visible()
    events = page.locator("#team-events")
    for text in (
        "Einladung widerrufen",
        "Aus der Organisation entfernt",
        "Rolle: Sales → Geschäftsleitung",
    ):
        expect(events).to_contain_text(text)
    screenshot("team-after")
    log_out(page)

    membership = Membership.objects.get(user__email="marco@alpen.example")
    assert (membership.role, membership.job_title) == (Role.MANAGEMENT, "Leiter Vertrieb")

    # Petra's link now says so; Anna's next request no longer reaches the SLA, whose
    # signature block still names her.
    page.goto(live_server.url + mailed_link("petra@alpen.example"))
    expect(page.get_by_role("heading", name="Diese Einladung wurde widerrufen")).to_be_visible()
    login("anna@alpen.example", PASSWORD)
    response = page.goto(detail)
    assert response.status == 404
    log_out(page)
    login("marco@alpen.example", PASSWORD)
    page.goto(detail)
    expect(page.locator("#signoff")).to_contain_text("Anna Alder")
