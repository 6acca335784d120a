"""Validation rules of the agreement: in clean() for forms, constraints for the database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements.enums import FunnelStage, ReportingAudience, ReportingChannel, Role
from agreements.models import Membership
from tests.factories import make_agreement, make_member, make_organisation

JAN_1 = datetime.date(2027, 1, 1)
DEC_31 = datetime.date(2027, 12, 31)


def validation_errors(agreement) -> dict:
    """What ``full_clean`` refuses, field by field; {} for a valid agreement."""
    try:
        agreement.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def errors_of(agreement) -> dict:
    with pytest.raises(ValidationError) as raised:
        agreement.full_clean()
    return raised.value.message_dict


@pytest.mark.django_db
def test_an_empty_draft_is_valid():
    """Drafts are saved half-filled: nothing of the content is required before the review."""
    assert validation_errors(make_agreement()) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("end", [JAN_1, JAN_1 - datetime.timedelta(days=1)])
def test_end_date_must_follow_start_date(end):
    agreement = make_agreement()
    agreement.start_date, agreement.end_date = JAN_1, end
    assert "Das Enddatum muss nach dem Startdatum liegen." in str(errors_of(agreement))


@pytest.mark.django_db
def test_end_date_before_start_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_agreement(start_date=DEC_31, end_date=JAN_1)


@pytest.mark.django_db
def test_renewal_date_must_follow_start_date():
    agreement = make_agreement()
    agreement.start_date, agreement.end_date, agreement.renewal_date = JAN_1, DEC_31, JAN_1
    assert "Das Erneuerungsdatum muss nach dem Startdatum liegen." in str(errors_of(agreement))


@pytest.mark.django_db
def test_response_time_must_be_at_least_one_hour():
    agreement = make_agreement()
    agreement.response_time_hours = 0
    assert "mindestens 1 Stunde" in str(errors_of(agreement))


@pytest.mark.django_db
def test_conversion_rate_stages_must_differ():
    agreement = make_agreement()
    agreement.rate_x_stage = agreement.rate_y_stage = FunnelStage.MQL
    agreement.rate_z_stage = FunnelStage.MQL
    errors = errors_of(agreement)
    assert errors["rate_y_stage"] == ["X und Y müssen verschiedene Stufen sein."]
    assert errors["rate_z_stage"] == ["Y und Z müssen verschiedene Stufen sein."]


@pytest.mark.django_db
def test_other_reporting_channel_and_audience_need_a_name():
    agreement = make_agreement()
    agreement.reporting_channel = ReportingChannel.OTHER
    agreement.reporting_audience = ReportingAudience.OTHER
    errors = errors_of(agreement)
    assert errors["reporting_channel_other"] == ["Bitte das Tool nennen."]
    assert errors["reporting_audience_other"] == ["Bitte die Stelle nennen."]
    agreement.reporting_channel_other = "Power BI"
    agreement.reporting_audience_other = "Verwaltungsrat"
    agreement.full_clean()


@pytest.mark.django_db
def test_representatives_are_members_with_the_matching_role():
    organisation = make_organisation()
    marketing = make_member(organisation, Role.MARKETING)
    sales = make_member(organisation, Role.SALES)
    stranger = make_member(make_organisation(), Role.MARKETING)
    agreement = make_agreement(organisation)

    agreement.marketing_representative, agreement.sales_representative = sales, stranger
    errors = errors_of(agreement)
    assert set(errors) == {"marketing_representative", "sales_representative"}

    agreement.marketing_representative, agreement.sales_representative = marketing, sales
    agreement.full_clean()


@pytest.mark.django_db
def test_a_person_has_one_role_per_organisation():
    organisation = make_organisation()
    user = make_member(organisation, Role.MARKETING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, organisation=organisation, role=Role.SALES)


@pytest.mark.django_db
def test_funnel_figures_cannot_be_negative():
    agreement = make_agreement()
    agreement.funnel_visits = -1
    assert "funnel_visits" in errors_of(agreement)
