"""The demo loader: idempotent, complete, and never in production."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from agreements.document import SlaDocument
from agreements.models import Agreement, FurtherDefinition, Membership, Organisation


@pytest.mark.django_db
def test_loading_twice_duplicates_nothing():
    call_command("load_demo")
    call_command("load_demo")
    assert Organisation.objects.count() == 1
    assert Agreement.objects.count() == 1
    assert FurtherDefinition.objects.count() == 1
    assert Membership.objects.count() == 3
    assert get_user_model().objects.count() == 4


@pytest.mark.django_db
def test_demo_accounts_log_in_with_demo(client):
    call_command("load_demo")
    for username in ("marketing", "sales", "management", "admin"):
        assert client.login(username=username, password="demo"), username
    assert get_user_model().objects.get(username="admin").is_staff


@pytest.mark.django_db
def test_demo_sla_is_complete_and_covers_2027(demo_agreement):
    assert SlaDocument(demo_agreement).is_complete
    assert f"{demo_agreement.start_date:%d.%m.%Y}" == "01.01.2027"
    assert f"{demo_agreement.end_date:%d.%m.%Y}" == "31.12.2027"


@pytest.mark.django_db
def test_loader_refuses_to_run_in_production(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG off"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()
