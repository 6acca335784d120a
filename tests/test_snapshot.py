"""The canonical content snapshot: what is frozen on submit and what a signature covers."""

import hashlib
import json

import pytest
from django.core.files.base import ContentFile

from agreements.models import Agreement, FurtherDefinition
from agreements.snapshot import agreement_snapshot, canonical_json, snapshot_sha256
from tests.factories import make_agreement, tamper

# Every content field of Agreement. A new field fails this test until it is sorted into
# the snapshot or into snapshot.NON_CONTENT_FIELDS on purpose.
CONTENT_KEYS = {
    "snapshot_version",
    "organisation",
    "start_date",
    "end_date",
    "geographic_unit",
    "group_subgroup",
    "marketing_function",
    "marketing_representative",
    "sales_function",
    "sales_representative",
    "system_name",
    "system_created_on",
    "framework_document_name",
    "framework_document_sha256",
    "definition_visits",
    "definition_contacts",
    "definition_leads",
    "definition_prospects",
    "definition_mql",
    "definition_sql",
    "rate_x_stage",
    "rate_y_stage",
    "definition_rate_xy",
    "rate_z_stage",
    "definition_rate_yz",
    "definition_close_rate",
    "definition_attribution",
    "definition_deal_stages",
    "definition_closed_won",
    "definition_revenue",
    "sql_target",
    "sql_period",
    "response_time_hours",
    "report_back",
    "metric_sql",
    "metric_revenue",
    "metric_other",
    "marketing_responsible",
    "marketing_deputy",
    "sales_responsible",
    "sales_deputy",
    "reporting_channel",
    "reporting_channel_other",
    "reporting_audience",
    "reporting_audience_other",
    "exchange_interval",
    "renewal_date",
    "funnel_visits",
    "funnel_target_accounts",
    "funnel_mql",
    "funnel_prospects",
    "funnel_sql",
    "funnel_customers",
    "further_definitions",
}


def test_the_snapshot_holds_every_content_field_and_nothing_else(demo_agreement):
    snapshot = agreement_snapshot(demo_agreement)

    assert set(snapshot) == CONTENT_KEYS
    assert snapshot["organisation"] == "Muster AG"
    assert snapshot["start_date"] == "2027-01-01"
    assert snapshot["funnel_visits"] == 34000
    assert snapshot["metric_sql"] is True
    assert snapshot["rate_x_stage"] == "mql"
    rep = demo_agreement.marketing_representative
    assert snapshot["marketing_representative"] == {"id": rep.pk, "full_name": "Anna Keller"}
    assert snapshot["further_definitions"][0]["term"] == "Target Accounts"


def test_canonical_json_is_sorted_compact_and_keeps_umlauts():
    assert canonical_json({"b": 1, "a": "Geschäftsleitung „x“"}) == (
        '{"a":"Geschäftsleitung „x“","b":1}'
    )


def test_the_hash_is_the_sha256_of_the_canonical_json(demo_agreement):
    snapshot = agreement_snapshot(demo_agreement)

    expected = hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()
    assert snapshot_sha256(snapshot) == demo_agreement.content_hash() == expected
    # A snapshot read back from JSON (as from the database) hashes the same.
    assert snapshot_sha256(json.loads(json.dumps(snapshot))) == expected


def test_the_hash_changes_with_the_content(demo_agreement):
    before = demo_agreement.content_hash()

    Agreement.objects.filter(pk=demo_agreement.pk).update(definition_visits="alle Sitzungen")
    after_field = Agreement.objects.get(pk=demo_agreement.pk).content_hash()
    FurtherDefinition.objects.filter(agreement=demo_agreement).update(text="anders")
    after_definition = Agreement.objects.get(pk=demo_agreement.pk).content_hash()

    assert len({before, after_field, after_definition}) == 3


def test_the_hash_changes_when_a_representative_is_renamed(demo_agreement):
    before = demo_agreement.content_hash()
    demo_agreement.sales_representative.last_name = "Brunner-Huber"
    demo_agreement.sales_representative.save()

    assert Agreement.objects.get(pk=demo_agreement.pk).content_hash() != before


def test_status_and_bookkeeping_are_not_content(demo_agreement):
    before = demo_agreement.content_hash()

    tamper(Agreement.objects.filter(pk=demo_agreement.pk), revision=9, status="signed")

    assert Agreement.objects.get(pk=demo_agreement.pk).content_hash() == before


def test_the_framework_documents_bytes_are_part_of_the_content(demo_agreement, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    without = demo_agreement.content_hash()

    demo_agreement.framework_document.save("playbook.pdf", ContentFile(b"%PDF-1.7 one"))
    with_one = agreement_snapshot(demo_agreement)
    demo_agreement.framework_document.save("playbook.pdf", ContentFile(b"%PDF-1.7 two"))
    with_two = agreement_snapshot(demo_agreement)

    assert with_one["framework_document_sha256"] == hashlib.sha256(b"%PDF-1.7 one").hexdigest()
    assert len({without, snapshot_sha256(with_one), snapshot_sha256(with_two)}) == 3


@pytest.mark.django_db
def test_an_empty_draft_has_a_snapshot_too():
    snapshot = agreement_snapshot(make_agreement())

    assert snapshot["marketing_representative"] is None
    assert snapshot["further_definitions"] == []
