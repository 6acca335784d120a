"""Every page of the portal, for every kind of visitor, with GET and POST, in every state.

The URL names come from the URL configuration (``get_resolver()``), so a new page
cannot be forgotten: ``test_the_table_covers_every_url`` fails until ``EXPECTED`` has a
row for it. Of the admin, the index, the changelists and change views of the portal's
own models and the admin's log-in count; the rest of the admin is Django's own.

The rules the table follows (agreements.permissions): 404 for what a visitor may not
see (another organisation's agreement), 403 for what they see but may not do, the
log-in page for anonymous visitors, 405 for a method the view does not take, 200 or 302
for what is allowed. A sign-off button pressed in the wrong state is not forbidden:
the workflow refuses it with a message and a redirect (302), as the permissions module
explains. POSTs carry data valid enough to be acted on, so an allowed cell shows the
real answer, not a form error. The test client skips CSRF checks;
``test_a_post_without_csrf_token_is_refused`` proves the middleware does not.

The data is built once for the module, through the real workflow, inside a
transaction that is rolled back at the end; each cell runs in a savepoint of its own.
"""

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from agreements.audit import audit_verify
from agreements.demo import DEMO_PASSWORD, _create_agreement, load_demo
from agreements.enums import Party, Role
from agreements.models import Agreement, AuditEvent, Membership, Signature
from agreements.negotiation.models import Comment, Thread
from agreements.team.domain import invitation_create
from agreements.team.tokens import invitation_token
from agreements.uploads import framework_document_replace
from agreements.workflow import agreement_renew

from .factories import (
    make_member,
    make_organisation,
    make_pdf,
    make_request_meta,
    make_user,
    sign_agreement,
    submit_agreement,
)

ROLES = ("anonymous", "outsider", "marketing", "sales", "management", "admin")
STATES = ("draft", "awaiting", "signed", "superseded")

LOGIN = "login"  # a redirect to a log-in page (the portal's, or the admin's for the admin)

# Cells that depend on the agreement's state.
GOALS = {"draft": 403, "awaiting": 403, "signed": 200, "superseded": 200}
ACTUALS_POST = {"draft": 403, "awaiting": 403, "signed": 302, "superseded": 302}
IMPORT_POST = {"draft": 403, "awaiting": 403, "signed": 400, "superseded": 400}
# An author on a step of an agreement no longer in draft is sent to its page, which says
# why (issue 19: the browser's Back after submitting showed a bare 403).
EDIT_GET = {"draft": 200, "awaiting": 302, "signed": 302, "superseded": 302}
EDIT_POST = {"draft": 302, "awaiting": 302, "signed": 302, "superseded": 302}
PREVIEW_POST = {"draft": 200, "awaiting": 403, "signed": 403, "superseded": 403}
SIGN_GET = {"draft": 302, "awaiting": 200, "signed": 302, "superseded": 302}
# A draft's admin form comes back with what is missing (200); a submitted one is read-only.
ADMIN_CHANGE_POST = {"draft": 200, "awaiting": 403, "signed": 403, "superseded": 403}

# One row per URL name and method, one cell per role in the order of ROLES:
# anonymous, outsider (marketing in another organisation), marketing, sales,
# management, admin (is_staff and is_superuser, member of no organisation).
# A dict cell answers per state of the agreement (STATES).
EXPECTED = {
    # --- The portal ------------------------------------------------------------------
    "dashboard": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),  # pages that only show: GET and HEAD
    },
    "agreement_create": {
        # The outsider authors in their own organisation; management and admin never.
        "GET": (LOGIN, 200, 200, 200, 403, 403),
        "POST": (LOGIN, 302, 302, 302, 403, 403),
    },
    "agreement_detail": {
        "GET": (LOGIN, 404, 200, 200, 200, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_framework_document": {
        "GET": (LOGIN, 404, 200, 200, 200, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_step": {
        "GET": (LOGIN, 404, EDIT_GET, EDIT_GET, 403, 404),
        "POST": (LOGIN, 404, EDIT_POST, EDIT_POST, 403, 404),
    },
    "agreement_step_preview": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, PREVIEW_POST, PREVIEW_POST, 403, 404),
    },
    "agreement_pdf": {
        "GET": (LOGIN, 404, 200, 200, 200, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # The PDF button's state, which the agreement page asks for while the PDF is made.
    "agreement_pdf_state": {
        "GET": (LOGIN, 404, 200, 200, 200, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "signed_agreements": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "pdf_verify": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 200, 200, 200, 200, 200),
    },
    # Sign-off: who may ask is decided before the state (403); the state is the
    # workflow's to refuse, with a message and a redirect.
    "agreement_submit": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 403, 404),
    },
    "agreement_sign": {
        "GET": (LOGIN, 404, SIGN_GET, SIGN_GET, 403, 404),
        "POST": (LOGIN, 404, 302, 302, 403, 404),
    },
    "agreement_decline": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 403, 404),
    },
    "agreement_reopen": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 403, 404),
    },
    "agreement_renew": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 403, 404),
    },
    # Negotiation (issue 21): the history for every member; comments by every member,
    # refused with a message (302) once the agreement is no draft; only the author edits.
    "agreement_history": {
        "GET": (LOGIN, 404, 200, 200, 200, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_comment_add": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 302, 404),
    },
    "agreement_comment_edit": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 403, 403, 404),  # the comment is marketing's
    },
    "agreement_thread_resolve": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 302, 302, 302, 404),
    },
    # Goals (issue 8): only a signed or superseded agreement has them.
    "goals_overview": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_goals": {
        "GET": (LOGIN, 404, GOALS, GOALS, GOALS, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_goals_pdf": {
        "GET": (LOGIN, 404, GOALS, GOALS, GOALS, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "agreement_actuals": {
        "GET": (LOGIN, 404, GOALS, GOALS, GOALS, 404),
        "POST": (LOGIN, 404, ACTUALS_POST, ACTUALS_POST, 403, 404),
    },
    "agreement_actuals_import": {
        "GET": (LOGIN, 404, GOALS, GOALS, 403, 404),
        # An empty upload: refused as data (400) by whoever may import at all.
        "POST": (LOGIN, 404, IMPORT_POST, IMPORT_POST, 403, 404),
    },
    "agreement_actuals_csv": {
        "GET": (LOGIN, 404, GOALS, GOALS, GOALS, 404),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # --- Teams (issue 20): only the organisation's administrators (here management, as in
    # the demo) see and change its team; staff create organisations. --------------------
    "organisation_create": {
        "GET": (LOGIN, 403, 403, 403, 403, 200),
        "POST": (LOGIN, 403, 403, 403, 403, 302),
    },
    "team": {
        "GET": (LOGIN, 404, 403, 403, 200, 404),  # staff are not its members: 404
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "team_invite": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 403, 403, 302, 404),
    },
    "team_member_change": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 403, 403, 302, 404),
    },
    # Sales represents the SLA awaiting signatures: refused with a message (302).
    "team_member_remove": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 403, 403, 302, 404),
    },
    "team_invitation_resend": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 403, 403, 302, 404),
    },
    "team_invitation_revoke": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 404, 403, 403, 302, 404),
    },
    # The mail's link: the sign-up for a visitor (an empty form: 400), refused for an
    # account with another address.
    "invitation_accept": {
        "GET": (200, 403, 403, 403, 403, 403),
        "POST": (400, 403, 403, 403, 403, 403),
    },
    # --- Identity (django-allauth): log-in, password, second factors, single sign-on ------
    # Pages for anonymous visitors send a logged-in one on to the dashboard (302); account
    # pages send anonymous visitors to the log-in. What changes a factor or a password
    # first asks a logged-in user to confirm who they are again (302, allauth's
    # reauthentication), since a session alone must not be enough to change them.
    "account_login": {
        "GET": (200, 302, 302, 302, 302, 302),
        "POST": (200, 302, 302, 302, 302, 302),  # no credentials: the form again
    },
    "account_logout": {
        "GET": (302, 200, 200, 200, 200, 200),  # the question; log-out itself only by POST
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "account_inactive": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    "account_signup": {
        "GET": (200, 302, 302, 302, 302, 302),  # "no sign-up": staff make the accounts
        "POST": (200, 302, 302, 302, 302, 302),
    },
    "account_reauthenticate": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 200, 200, 200, 200, 200),  # no password: the form again
    },
    # Codes by mail are off: the pages send back to the password's reauthentication.
    "account_request_reauthentication_code": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "account_confirm_reauthentication_code": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "account_email": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 302, 302, 302, 302, 302),  # nothing chosen: back to the page
    },
    "account_email_verification_sent": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    "account_confirm_email": {
        "GET": (200, 200, 200, 200, 200, 200),  # an unknown link: the page says so
        "POST": (404, 404, 404, 404, 404, 404),
    },
    "account_change_password": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 200, 200, 200, 200, 200),  # the old password is missing: form again
    },
    "account_set_password": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),  # everyone here has one: to the change
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "account_reset_password": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (302, 302, 302, 302, 302, 302),  # says "sent" whether the address exists
    },
    "account_reset_password_done": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    "account_reset_password_from_key": {
        "GET": (200, 200, 200, 200, 200, 200),  # an invalid link: the page says so
        "POST": (200, 200, 200, 200, 200, 200),
    },
    "account_reset_password_from_key_done": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    # Steps of a log-in under way (code by mail, second factor, passkey): without one,
    # back to the log-in page, or to the dashboard for who is logged in already.
    "account_confirm_login_code": {
        "GET": (302, 302, 302, 302, 302, 302),
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "mfa_authenticate": {
        "GET": (302, 302, 302, 302, 302, 302),
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "mfa_login_webauthn": {
        "GET": (302, 302, 302, 302, 302, 302),
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "mfa_index": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # Only marketing has a factor (its authenticator app): only it can confirm with one;
    # the others are sent to confirm with their password.
    "mfa_reauthenticate": {
        "GET": (LOGIN, 302, 200, 302, 302, 302),
        "POST": (LOGIN, 302, 200, 302, 302, 302),
    },
    "mfa_reauthenticate_webauthn": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "mfa_activate_totp": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "mfa_deactivate_totp": {
        "GET": (LOGIN, 404, 302, 404, 404, 404),  # only who has an app can remove it
        "POST": (LOGIN, 404, 302, 404, 404, 404),
    },
    "mfa_view_recovery_codes": {
        "GET": (LOGIN, 404, 404, 404, 404, 404),  # nobody here has generated codes yet
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "mfa_generate_recovery_codes": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "mfa_download_recovery_codes": {
        "GET": (LOGIN, 404, 404, 404, 404, 404),
        "POST": (LOGIN, 404, 404, 404, 404, 404),
    },
    "mfa_list_webauthn": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "mfa_add_webauthn": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "mfa_edit_webauthn": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "mfa_remove_webauthn": {
        "GET": (LOGIN, 302, 302, 302, 302, 302),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "socialaccount_login_cancelled": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    "socialaccount_login_error": {
        "GET": (401, 401, 401, 401, 401, 401),
        "POST": (405, 405, 405, 405, 405, 405),
    },
    "socialaccount_signup": {
        "GET": (302, 302, 302, 302, 302, 302),  # no sign-on under way: to the log-in
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "socialaccount_connections": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 200, 200, 200, 200, 200),  # nothing chosen: the page again
    },
    # The test provider (tests/oidc_provider): GET asks to continue, POST goes there.
    "openid_connect_login": {
        "GET": (200, 200, 200, 200, 200, 200),
        "POST": (302, 302, 302, 302, 302, 302),
    },
    "openid_connect_callback": {
        "GET": (401, 401, 401, 401, 401, 401),  # no sign-on under way: refused
        "POST": (401, 401, 401, 401, 401, 401),
    },
    "set_language": {
        "GET": (302, 302, 302, 302, 302, 302),  # back where the visitor came from; no change
        "POST": (302, 302, 302, 302, 302, 302),
    },
    # --- The admin: staff only; evidence (signatures, audit) read-only -------------------
    # The admin's own log-in is not offered: it would skip the second factor and the SSO
    # rule. Anonymous visitors go to the portal's log-in, members who are not staff are
    # refused, staff go on to the admin.
    "admin:login": {
        "GET": (302, 403, 403, 403, 403, 302),
        "POST": (302, 403, 403, 403, 403, 200),
    },
    "admin:index": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_agreement_changelist": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_agreement_change": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),  # a submitted one: view only
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, ADMIN_CHANGE_POST),
    },
    "admin:agreements_organisation_changelist": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_organisation_change": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 302),
    },
    "admin:agreements_membership_changelist": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_membership_change": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 302),
    },
    "admin:agreements_signature_changelist": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_signature_change": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 403),
    },
    "admin:agreements_auditevent_changelist": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
    },
    "admin:agreements_auditevent_change": {
        "GET": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200),
        "POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 403),
    },
}

# Which admin URLs the matrix covers: the index, the log-in, and the list and change
# pages of the portal's own models. The rest (history, delete, add, Django's own models)
# follows from the same ModelAdmin permissions.
ADMIN_MODELS = ("agreement", "organisation", "membership", "signature", "auditevent")
ADMIN_PATTERN = re.compile(
    rf"^admin:(index|login|agreements_({'|'.join(ADMIN_MODELS)})_(changelist|change))$"
)


def url_patterns() -> dict[str, str]:
    """Every named URL of the portal and its route, the admin's limited to ``ADMIN_PATTERN``."""

    def walk(patterns, namespace="", prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                name_prefix = f"{namespace}:{inner}" if namespace and inner else namespace or inner
                yield from walk(pattern.url_patterns, name_prefix, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, prefix + str(pattern.pattern)

    return {
        name: route
        for name, route in walk(get_resolver().url_patterns)
        if not name.startswith("admin:") or ADMIN_PATTERN.match(name)
    }


ROUTES = url_patterns()


def takes_agreement(name: str) -> bool:
    """Whether the URL names an agreement, so that its answer may depend on the state."""
    route = ROUTES.get(name, "")
    return name == "admin:agreements_agreement_change" or route.startswith("agreements/<int:pk>")


# --- The data: built once, rolled back at the end ----------------------------------------


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def private_files(settings, media_root, seal_files):
    """Like conftest's, but one media directory for the module: the PDFs are stored once."""
    settings.MEDIA_ROOT = media_root
    settings.SLA_SEAL_PKCS12_FILE = None
    settings.SLA_SEAL_KEY_FILE, settings.SLA_SEAL_CERT_FILE = seal_files
    settings.SLA_SEAL_PASSPHRASE = None
    settings.SLA_SEAL_TIMESTAMP_URL = None
    settings.SLA_SEAL_TRUST_ROOTS_FILE = None


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root, seal_files):
    """Muster AG's agreements in each state, its people, an outsider and an administrator."""
    key_file, cert_file = seal_files
    with (
        django_db_blocker.unblock(),
        override_settings(  # what conftest's function-scoped fixtures set for each test
            MEDIA_ROOT=media_root,
            SLA_SEAL_PKCS12_FILE=None,
            SLA_SEAL_KEY_FILE=key_file,
            SLA_SEAL_CERT_FILE=cert_file,
            SLA_SEAL_PASSPHRASE=None,
            SLA_SEAL_TIMESTAMP_URL=None,
            SLA_SEAL_TRUST_ROOTS_FILE=None,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build_world() -> dict:
    from agreements.archive import signed_pdf_store

    draft = load_demo()  # the complete 2027 draft; commits nothing: we are in a transaction
    organisation = draft.organisation
    users = {
        role: Membership.objects.get(organisation=organisation, role=role).user for role in Role
    }

    def complete_draft(year):
        agreement = _create_agreement(organisation, users, year=year)
        framework_document_replace(agreement=agreement, uploaded_file=_framework_pdf())
        return agreement

    framework_document_replace(agreement=draft, uploaded_file=_framework_pdf())

    superseded = complete_draft(2024)
    submit_agreement(superseded)
    for party in Party:
        sign_agreement(superseded, party)
    signed = agreement_renew(
        agreement=superseded, user=users[Role.MARKETING], meta=make_request_meta()
    )
    submit_agreement(signed)
    for party in Party:
        sign_agreement(signed, party)  # completes it and supersedes its predecessor
    awaiting = submit_agreement(complete_draft(2028))
    for agreement in (superseded, signed):
        signed_pdf_store(agreement_id=agreement.pk)

    agreements = {
        state: Agreement.objects.get(pk=agreement.pk)
        for state, agreement in zip(STATES, (draft, awaiting, signed, superseded), strict=True)
    }
    assert [a.status for a in agreements.values()] == [
        "draft",
        "awaiting_signatures",
        "signed",
        "superseded",
    ]
    for agreement in agreements.values():  # a thread by marketing on each (issue 21)
        thread = Thread.objects.create(agreement=agreement, section="7", created_at=timezone.now())
        Comment.objects.create(
            thread=thread,
            author=users[Role.MARKETING],
            author_name="Anna Keller",
            body="70 SQL pro Quartal?",
            created_at=timezone.now(),
        )
    outsider = make_member(make_organisation("Andere AG"), Role.MARKETING, "outsider")
    # The marketing lead's authenticator app: not a passkey, so no one (its owner neither)
    # reaches it through the passkey pages; allauth looks passkeys up by owner and type.
    authenticator = TOTP.activate(users[Role.MARKETING], "JBSWY3DPEHPK3PXP").instance
    admin = make_user("matrix-admin", is_staff=True, is_superuser=True)
    invitation = invitation_create(
        organisation=organisation,
        email="neu@muster.example",
        role=Role.SALES,
        actor=users[Role.MANAGEMENT],
    )
    return {
        "invitation": invitation,
        "agreements": agreements,
        "users": {
            "anonymous": None,
            "outsider": outsider,
            "marketing": users[Role.MARKETING],
            "sales": users[Role.SALES],
            "management": users[Role.MANAGEMENT],
            "admin": admin,
        },
        "organisation": organisation,
        "authenticator": authenticator,
    }


def _framework_pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("Rahmen.pdf", make_pdf(), content_type="application/pdf")


# --- What each request sends ---------------------------------------------------------------


def url_for(name: str, world, agreement) -> str:
    """The URL of ``name`` for the agreement (or another object of the organisation)."""
    organisation = world["organisation"]
    objects = {
        "admin:agreements_agreement_change": agreement,
        "admin:agreements_organisation_change": organisation,
        "admin:agreements_membership_change": Membership.objects.filter(
            organisation=organisation
        ).first(),
        "admin:agreements_signature_change": Signature.objects.filter(
            agreement__organisation=organisation
        ).first(),
        "admin:agreements_auditevent_change": AuditEvent.objects.filter(
            agreement__organisation=organisation
        ).first(),
    }
    if name in objects:
        return reverse(name, args=[objects[name].pk])
    if name in ("team", "team_invite"):
        return reverse(name, args=[organisation.pk])
    if name in ("team_member_change", "team_member_remove"):
        membership = Membership.objects.get(organisation=organisation, role=Role.SALES)
        return reverse(name, args=[organisation.pk, membership.pk])
    if name in ("team_invitation_resend", "team_invitation_revoke"):
        return reverse(name, args=[organisation.pk, world["invitation"].pk])
    if name == "invitation_accept":
        return reverse(name, args=[invitation_token(world["invitation"])])
    if name in ("agreement_step", "agreement_step_preview"):
        return reverse(name, kwargs={"pk": agreement.pk, "step": "grunddaten"})
    if name == "agreement_comment_edit":
        comment = Comment.objects.get(thread__agreement=agreement)
        return reverse(name, kwargs={"pk": agreement.pk, "comment_id": comment.pk})
    if name == "agreement_thread_resolve":
        thread = Thread.objects.get(agreement=agreement)
        return reverse(name, kwargs={"pk": agreement.pk, "thread_id": thread.pk})
    if name == "account_reset_password_from_key":
        return reverse(name, kwargs={"uidb36": "1", "key": "set-password"})  # a link unknown
    if name == "account_confirm_email":
        return reverse(name, kwargs={"key": "unknown-key"})
    if name in ("mfa_remove_webauthn", "mfa_edit_webauthn"):
        return reverse(name, kwargs={"pk": world["authenticator"].pk})
    if name in ("openid_connect_login", "openid_connect_callback"):
        return reverse(name, kwargs={"provider_id": "firma-sso"})
    if takes_agreement(name):
        return reverse(name, kwargs={"pk": agreement.pk})
    return reverse(name)


def post_data(name: str, user, agreement) -> dict:
    """Data an allowed POST is acted on with; refusals must not depend on it."""
    from agreements.forms import BasicsForm

    if name == "agreement_create":
        return {
            "start_date": "01.01.2030",
            "end_date": "31.12.2030",
            "geographic_unit": "Romandie",
            "group_subgroup": "Gruppe West",
        }
    if name in ("agreement_step", "agreement_step_preview"):
        form = BasicsForm(instance=agreement)
        data = {key: form[key].value() for key in form.fields}
        return {
            key: (value.strftime("%d.%m.%Y") if isinstance(value, datetime.date) else value)
            for key, value in data.items()
            if value is not None
        }
    if name == "agreement_sign" and user is not None:
        return {
            "password": DEMO_PASSWORD,
            "typed_name": user.get_full_name(),
            "consent": "on",
            "content_sha256": agreement.content_sha256 or "0" * 64,
        }
    if name == "agreement_comment_add":
        return {"section": "7", "body": "Zu hoch?"}
    if name == "agreement_comment_edit":
        return {"body": "70 SQL pro Quartal? (korrigiert)"}
    if name in ("agreement_decline", "agreement_reopen"):
        return {"reason": "Die Zahlen stimmen nicht."}
    if name == "agreement_actuals" and agreement.start_date:
        return {"period": agreement.start_date.isoformat()}
    if name == "pdf_verify":
        return {"pdf": _framework_pdf()}  # a PDF the portal never issued: "unknown"
    if name == "organisation_create":
        return {"name": "Neu AG", "admin_email": "it@neu.example", "admin_role": Role.SALES}
    if name == "team_invite":
        return {"email": "weitere@muster.example", "role": Role.MARKETING}
    if name == "team_member_change":
        return {"role": Role.SALES, "job_title": "Verkaufsleitung"}
    if name == "set_language":
        return {"language": "en", "next": "/"}
    if name == "account_reset_password":
        return {"email": "niemand@example.org"}
    if name == "admin:agreements_agreement_change":
        return {"organisation": agreement.organisation_id, "_continue": ""}
    if name == "admin:agreements_organisation_change":
        return {
            "name": agreement.organisation.name,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    if name == "admin:agreements_membership_change":
        membership = Membership.objects.filter(organisation=agreement.organisation).first()
        return {
            "user": membership.user_id,
            "organisation": membership.organisation_id,
            "role": membership.role,
            "job_title": membership.job_title,
            # As it is: unticking the organisation's only administrator is refused.
            **({"is_admin": "on"} if membership.is_admin else {}),
        }
    return {}


def cells():
    for name, methods in EXPECTED.items():
        for method, row in methods.items():
            for role, expected in zip(ROLES, row, strict=True):
                states = STATES if takes_agreement(name) else (None,)
                for state in states:
                    cell = expected[state] if isinstance(expected, dict) else expected
                    yield pytest.param(
                        name,
                        method,
                        role,
                        state,
                        cell,
                        id="-".join(filter(None, (name, method, role, state))),
                    )


# --- The tests -------------------------------------------------------------------------------


def test_the_table_covers_every_url():
    names = set(url_patterns())

    assert sorted(names - EXPECTED.keys()) == [], "URLs without a row in EXPECTED"
    assert sorted(EXPECTED.keys() - names) == [], "rows in EXPECTED for URLs that do not exist"


@pytest.mark.parametrize(("name", "method", "role", "state", "expected"), list(cells()))
def test_access(world, db, sso, name, method, role, state, expected):
    user = world["users"][role]
    agreement = world["agreements"][state] if state else world["agreements"]["signed"]
    client = Client()
    if user is not None:
        client.force_login(user)
    url = url_for(name, world, agreement if state or name.startswith("admin:") else None)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, post_data(name, user, agreement))

    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        login_url = (
            reverse("admin:login") if name.startswith("admin:") else reverse("account_login")
        )
        assert response["Location"].startswith(login_url + "?next=")
    else:
        assert response.status_code == expected, _explain(response)
    if method == "POST" and state:
        # Whatever the answer, the trail of the agreement is still a valid chain.
        assert audit_verify(agreement).intact


def _explain(response) -> str:
    location = response.get("Location", "")
    return f"got {response.status_code} {location}".strip()


def test_every_trail_is_intact_after_the_matrix(world, db):
    for agreement in Agreement.objects.filter(organisation=world["organisation"]):
        assert audit_verify(agreement).intact, agreement


def test_a_post_without_csrf_token_is_refused(world, db):
    agreement = world["agreements"]["awaiting"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["marketing"])

    response = client.post(
        reverse("agreement_reopen", kwargs={"pk": agreement.pk}), {"reason": "Fehler"}
    )

    assert response.status_code == 403
    assert Agreement.objects.get(pk=agreement.pk).status == "awaiting_signatures"


@pytest.mark.parametrize(
    "name", ["agreement_decline", "account_logout", "account_change_password", "pdf_verify"]
)
def test_every_kind_of_post_needs_the_token(world, db, name):
    agreement = world["agreements"]["awaiting"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["marketing"])
    url = reverse(name, kwargs={"pk": agreement.pk}) if name == "agreement_decline" else None

    response = client.post(url or reverse(name), {"reason": "Fehler"})

    assert response.status_code == 403
