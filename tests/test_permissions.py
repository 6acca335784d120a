"""Who may press which sign-off button, by role, representation and the agreement's state."""

import pytest

from agreements.enums import AgreementStatus, Party, Role
from agreements.permissions import can_decline, can_reopen, can_sign, can_submit
from tests.factories import fresh, make_member, sign_agreement, submit_agreement


@pytest.fixture
def people(demo_agreement):
    users = {m.user.username: m.user for m in demo_agreement.organisation.memberships.all()}
    users["colleague"] = make_member(demo_agreement.organisation, Role.MARKETING, "colleague")
    return users


def buttons(user, agreement):
    user = type(user).objects.get(pk=user.pk)  # no role cache carried over
    return {
        "submit": can_submit(user, agreement),
        "sign": can_sign(user, agreement),
        "decline": can_decline(user, agreement),
        "reopen": can_reopen(user, agreement),
    }


def test_a_draft_offers_submitting_to_the_authors_only(demo_agreement, people):
    assert buttons(people["marketing"], demo_agreement) == {
        "submit": True,
        "sign": None,
        "decline": False,
        "reopen": False,
    }
    assert buttons(people["colleague"], demo_agreement)["submit"] is True
    assert buttons(people["management"], demo_agreement)["submit"] is False


def test_awaiting_signatures_each_representative_signs_for_their_own_party(demo_agreement, people):
    agreement = fresh(submit_agreement(demo_agreement))
    assert buttons(people["marketing"], agreement) == {
        "submit": False,
        "sign": Party.MARKETING,
        "decline": True,
        "reopen": True,
    }
    assert buttons(people["sales"], agreement)["sign"] == Party.SALES
    # An author who is not the representative may reopen, but not sign or decline.
    assert buttons(people["colleague"], agreement) == {
        "submit": False,
        "sign": None,
        "decline": False,
        "reopen": True,
    }
    assert not any(buttons(people["management"], agreement).values())


def test_after_signing_a_representative_may_still_decline_but_not_sign_again(
    demo_agreement, people
):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    result = buttons(people["marketing"], fresh(demo_agreement))
    assert (result["sign"], result["decline"]) == (None, True)


def test_a_signed_agreement_offers_no_button(demo_agreement, people):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    sign_agreement(demo_agreement, Party.SALES)
    agreement = fresh(demo_agreement)
    assert agreement.status == AgreementStatus.SIGNED
    for user in people.values():
        assert not any(buttons(user, agreement).values())


def test_a_representative_who_changed_roles_no_longer_signs(demo_agreement, people):
    agreement = fresh(submit_agreement(demo_agreement))
    agreement.organisation.memberships.filter(user=people["marketing"]).update(role=Role.MANAGEMENT)
    assert buttons(people["marketing"], agreement) == {
        "submit": False,
        "sign": None,
        "decline": False,
        "reopen": False,
    }
