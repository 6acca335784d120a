"""The demo loader: idempotent, complete, and never in production."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from agreements.audit import audit_verify
from agreements.demo import signed_demo_agreement
from agreements.document import SlaDocument
from agreements.enums import AgreementStatus, AuditAction, Party
from agreements.models import (
    Agreement,
    AuditEvent,
    FurtherDefinition,
    Membership,
    Organisation,
    Signature,
)


@pytest.mark.django_db
def test_loading_twice_duplicates_nothing(settings):
    call_command("load_demo", stdout=StringIO())
    stored = signed_demo_agreement().signed_pdf.name
    call_command("load_demo", stdout=StringIO())
    assert Organisation.objects.count() == 1
    assert Agreement.objects.count() == 2  # the 2027 draft and the signed 2026 SLA
    assert FurtherDefinition.objects.count() == 2
    assert Membership.objects.count() == 3
    assert get_user_model().objects.count() == 4
    assert Signature.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.PDF_STORED).count() == 1
    assert signed_demo_agreement().signed_pdf.name == stored
    assert len(list((Path(settings.MEDIA_ROOT) / "signed").iterdir())) == 1


@pytest.mark.django_db
def test_the_2026_sla_is_signed_through_the_workflow_with_its_sealed_pdf(settings):
    output = StringIO()
    call_command("load_demo", stdout=output)
    agreement = signed_demo_agreement()

    assert agreement.status == AgreementStatus.SIGNED
    assert (f"{agreement.start_date:%d.%m.%Y}", f"{agreement.end_date:%d.%m.%Y}") == (
        "01.01.2026",
        "31.12.2026",
    )
    signatures = {s.party: s for s in agreement.signatures.valid()}
    assert signatures[Party.MARKETING].user.username == "marketing"
    assert signatures[Party.SALES].user.username == "sales"
    assert {s.content_sha256 for s in signatures.values()} == {agreement.content_sha256}
    actions = list(
        AuditEvent.objects.filter(agreement=agreement)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert [action for action in actions if action != AuditAction.ACTUALS_SAVED] == [
        AuditAction.SUBMITTED,
        AuditAction.SIGNED,
        AuditAction.SIGNED,
        AuditAction.COMPLETED,
        AuditAction.PDF_STORED,
    ]
    assert AuditAction.ACTUALS_SAVED in actions  # the demo's reported figures
    assert audit_verify(agreement).intact
    content = (Path(settings.MEDIA_ROOT) / agreement.signed_pdf.name).read_bytes()
    assert hashlib.sha256(content).hexdigest() == agreement.signed_pdf_sha256
    assert "(signed, PDF stored)" in output.getvalue()


@pytest.mark.django_db
def test_load_demo_creates_the_development_seal_when_there_is_none(settings, tmp_path):
    settings.SLA_SEAL_KEY_FILE = tmp_path / "seal" / "seal-key.pem"
    settings.SLA_SEAL_CERT_FILE = tmp_path / "seal" / "seal-cert.pem"

    call_command("load_demo", stdout=StringIO())

    assert settings.SLA_SEAL_KEY_FILE.is_file() and settings.SLA_SEAL_CERT_FILE.is_file()
    assert signed_demo_agreement().signed_pdf


@pytest.mark.django_db
def test_demo_accounts_log_in_with_demo(client):
    call_command("load_demo", stdout=StringIO())
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


def test_muster_ag_has_an_organisation_administrator_who_is_not_staff(demo_agreement):
    [admin] = Membership.objects.admins().filter(organisation=demo_agreement.organisation)
    assert admin.user.username == "management" and not admin.user.is_staff
    assert get_user_model().objects.get(username="admin").is_staff
