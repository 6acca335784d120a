"""The rendered SLA: the template's words, its placeholders, Swiss formatting, escaping."""

import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from django.template.loader import render_to_string

from agreements.document import SlaDocument
from agreements.enums import FunnelStage, Party
from agreements.models import Agreement, FurtherDefinition, Signature
from agreements.wizard import step_of
from tests.factories import (
    make_agreement,
    make_organisation,
    sign_agreement,
    submit_agreement,
    tamper,
)

TEMPLATE = (Path(__file__).parent / "data" / "sla-template-de.txt").read_text(encoding="utf-8")
PLACEHOLDER = re.compile(r"\[[^\]]+\]|…+")
# Not fields: the sample's own marks, and the signature lines filled by signing.
NOT_FIELDS = {"[Beispiel]", "[NAME/DATUM]"}
# "Als [WEITERE DEFINITIONEN] gelten ……" is a list (FurtherDefinition rows), possibly empty.
LIST_PLACEHOLDER = "[WEITERE DEFINITIONEN]"

# Every placeholder of the template and the Agreement fields that fill it.
PLACEHOLDER_FIELDS = {
    "[FIRMA]": ["organisation"],
    "[START_DATUM]": ["start_date"],
    "[END_DATUM]": ["end_date"],
    "[WIRKUNGSBEREICH GEOGRAFISCH]": ["geographic_unit"],
    "[GRUPPE_UNTERGRUPPE]": ["group_subgroup"],
    "[INBOUND_MARKETING]": ["marketing_function"],
    "[INBOUND_SALES]": ["sales_function"],
    "[NAME]": [
        "marketing_representative",
        "sales_representative",
        "marketing_responsible",
        "sales_responsible",
    ],
    "[SYSTEM_NAME, DOKUMENT IM ANHANG]": ["system_name"],
    "[ERSTELLUNGSDATUM]": ["system_created_on"],
    "[X zu Y]": ["rate_x_stage", "rate_y_stage"],
    "[Y zu Z]": ["rate_y_stage", "rate_z_stage"],
    "[ANZAHL]": ["sql_target"],
    "[ZEITRAUM]": ["sql_period"],
    "[STUNDEN]": ["response_time_hours"],
    "[UMSATZ/ATTRIBUTION]": ["report_back"],
    "[SQL METRIKEN, UMSATZ]": ["metric_sql", "metric_revenue", "metric_other"],
    "[STELLVERTRETUNG]": ["marketing_deputy", "sales_deputy"],
    "[HUBSPOT MARKETING/SALES DASHBOARD/PPT/TOOL]": ["reporting_channel"],
    "[LEITUNGSEBENE/GESCHÄFTSLEITUNG]": ["reporting_audience"],
    "[INTERVALL]": ["exchange_interval"],
    "[ERNEUERUNGSDATUM]": ["renewal_date"],
}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("•", " ")).strip()


def visible_text(html: str) -> str:
    return normalise(unescape(re.sub(r"<[^>]+>", " ", html)))


def render(agreement) -> str:
    return render_to_string("agreements/document.html", {"doc": SlaDocument(agreement)})


def body_fragments() -> list[str]:
    """The fixed text of sections 1 to 11, cut at every placeholder, in order."""
    start = TEMPLATE.index("1. Einleitung")
    end = TEMPLATE.index("Mit dieser Vereinbarung/SLA einverstanden erklären sich:")
    end += len("Mit dieser Vereinbarung/SLA einverstanden erklären sich:")
    body = normalise(TEMPLATE[start:end])
    return [fragment.strip() for fragment in PLACEHOLDER.split(body) if fragment.strip()]


def test_fragments_cover_the_whole_template_body():
    fragments = body_fragments()
    assert fragments[0].startswith("1. Einleitung Diese Leistungsvereinbarung")
    assert fragments[-1].endswith("einverstanden erklären sich:")
    assert any(
        f.endswith("11. Erneuerung Diese Vereinbarung gilt für den Zeitraum von") for f in fragments
    )
    assert len(fragments) > 40


@pytest.mark.django_db
def test_demo_sla_contains_every_fixed_sentence_in_order(demo_agreement):
    text = visible_text(render(demo_agreement))
    position = 0
    for fragment in body_fragments():
        found = text.find(fragment, position)
        assert found >= 0, f"missing or out of order: {fragment!r}"
        position = found + len(fragment)
    assert text.startswith("Leistungsvereinbarung (SLA) zwischen Marketing und Sales der Muster AG")
    for fixed in ("Für „Marketing“", "Für „Sales“",
                  "ANHANG: Inbound Marketing & Sales System inkl. Metriken"):  # fmt: skip
        assert fixed in text


@pytest.mark.django_db
def test_demo_sla_shows_no_placeholder_and_the_appendix_figures(demo_agreement):
    html = render(demo_agreement)
    text = visible_text(html)
    assert 'class="placeholder"' not in html
    assert not re.search(r"\[[A-ZÄÖÜ_ ,/]+\]", text)
    assert "……." not in text
    assert SlaDocument(demo_agreement).is_complete
    for phase, label, figure in (
        ("ATTRACT", "Visits", "34’000"),
        ("IDENTIFY", "Target Accounts", "450"),
        ("CONVERT", "Marketing Qualified Leads", "570"),
        ("CONNECT", "Prospects", "290"),
        ("", "Sales Qualified Leads", "260"),
        ("CLOSE", "Customers", "200"),
    ):
        assert normalise(f"{phase} {label} {figure}") in text
    # Derived conversion rates, Swiss style: 450 / 34’000, 570 / 450, ...
    assert "1,3\u00a0%" in unescape(html)
    assert "1,27\u00a0:\u00a01" in unescape(html)  # 570 / 450: more than the stage before, a ratio
    assert "76,9\u00a0%" in unescape(html)


@pytest.mark.django_db
def test_empty_draft_shows_every_placeholder_of_the_template():
    agreement = make_agreement(marketing_function="", sales_function="")
    text = visible_text(render(agreement))
    template_placeholders = set(re.findall(r"\[[^\]]+\]", TEMPLATE)) - NOT_FIELDS
    template_placeholders -= {"[FIRMA]", LIST_PLACEHOLDER}  # always known / may stay empty
    for placeholder in template_placeholders:
        assert placeholder in text, placeholder
    doc = SlaDocument(agreement)
    assert not doc.is_complete
    assert {step_of(slot).slug for slot in doc.missing} == {
        "grunddaten", "parteien", "rahmen", "definitionen",
        "ziele", "verantwortung", "reporting", "funnel",
    }  # fmt: skip


def test_every_template_placeholder_maps_to_agreement_fields():
    placeholders = set(re.findall(r"\[[^\]]+\]", TEMPLATE)) - NOT_FIELDS
    assert placeholders - {LIST_PLACEHOLDER} == set(PLACEHOLDER_FIELDS)
    field_names = {field.name for field in Agreement._meta.get_fields()}
    for fields in PLACEHOLDER_FIELDS.values():
        assert set(fields) <= field_names
    assert {"term", "text"} <= {field.name for field in FurtherDefinition._meta.get_fields()}


@pytest.mark.django_db
@pytest.mark.parametrize("placeholder", sorted(set(PLACEHOLDER_FIELDS) - {"[FIRMA]"}))
def test_emptying_the_fields_of_a_placeholder_shows_it(demo_agreement, placeholder):
    for name in PLACEHOLDER_FIELDS[placeholder]:
        field = Agreement._meta.get_field(name)
        setattr(demo_agreement, name, False if field.get_internal_type() == "BooleanField"
                else None if field.null else "")  # fmt: skip
    assert placeholder in visible_text(render(demo_agreement))


@pytest.mark.django_db
def test_every_template_placeholder_maps_to_a_slot_as_often_as_it_occurs():
    doc = SlaDocument(make_agreement())
    slot_placeholders = [slot.placeholder for slot in doc.slots.values()]
    for placeholder in set(re.findall(r"\[[^\]]+\]", TEMPLATE)) - NOT_FIELDS - {LIST_PLACEHOLDER}:
        # [START_DATUM] and [END_DATUM] appear twice in the template but are one field each.
        assert slot_placeholders.count(placeholder) >= 1, placeholder
    assert slot_placeholders.count("[NAME]") == TEMPLATE.count("[NAME]")
    # 13 standard definitions and six funnel figures are "……" blanks.
    assert slot_placeholders.count("……") == 13 + len(FunnelStage)


@pytest.mark.django_db
def test_user_text_is_escaped():
    agreement = make_agreement(
        geographic_unit='<img src="file:///etc/passwd">',
        definition_visits="<script>alert(1)</script>",
    )
    FurtherDefinition.objects.create(agreement=agreement, term="<b>Fett</b>", text="x & y")
    html = render(agreement)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Fett&lt;/b&gt;" in html
    assert "x &amp; y" in html


@pytest.mark.django_db
def test_definitions_keep_one_full_stop():
    agreement = make_agreement(
        definition_visits="alle Sitzungen.", definition_closed_won="gewonnene Deals."
    )
    text = visible_text(render(agreement))
    assert "Als Visits gelten alle Sitzungen." in text
    assert "Als Visits gelten alle Sitzungen.." not in text
    assert "Als „Closed-Won“ gelten gewonnene Deals." in text


@pytest.mark.django_db
def test_conversion_rates_are_derived_and_undefined_after_a_zero():
    organisation = make_organisation()
    agreement = make_agreement(
        organisation,
        funnel_visits=0,
        funnel_target_accounts=10,
        funnel_mql=20,
        funnel_prospects=None,
        funnel_sql=5,
        funnel_customers=5,
    )
    rates = [row.rate_from_previous for row in SlaDocument(agreement).funnel]
    assert rates == [None, "–", "2\u00a0:\u00a01", "–", "–", "100,0\u00a0%"]


# The signature block, filled from the valid signatures (agreements.workflow signs).


@pytest.mark.django_db
def test_signature_lines_name_the_signer_their_title_and_the_swiss_date(
    demo_agreement, django_assert_num_queries
):
    submit_agreement(demo_agreement)
    signature = sign_agreement(demo_agreement, Party.MARKETING)
    # 23:30 UTC on New Year's Eve is already 1 January in Zurich.
    tamper(
        Signature.objects.filter(pk=signature.pk),
        signed_at=datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC),
    )
    agreement = Agreement.objects.select_related(
        "organisation", "marketing_representative", "sales_representative"
    ).get(pk=demo_agreement.pk)

    with django_assert_num_queries(2):  # the further definitions, the signatures
        lines = {line.party: line for line in SlaDocument(agreement).signature_lines}

    marketing, sales = lines[Party.MARKETING], lines[Party.SALES]
    assert marketing.signed and marketing.signer == "Anna Keller"
    assert marketing.signed_at == "01.01.2027, 00:30 Uhr"
    assert marketing.job_title == "Leiterin Inbound Marketing"
    assert not sales.signed and (sales.signer, sales.job_title, sales.signed_at) == ("", "", "")
    assert sales.representative == "Marco Brunner"


@pytest.mark.django_db
def test_a_draft_reads_no_signatures(demo_agreement, django_assert_num_queries):
    agreement = Agreement.objects.select_related(
        "organisation", "marketing_representative", "sales_representative"
    ).get(pk=demo_agreement.pk)
    with django_assert_num_queries(1):  # the further definitions only
        doc = SlaDocument(agreement)
    assert not any(line.signed for line in doc.signature_lines)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("other", "sentence"),
    [
        ("", "gelten SQL-Metriken und Umsatz."),
        ("Pipeline", "gelten SQL-Metriken, Umsatz und Pipeline."),
        ("Pipeline, Churn", "gelten SQL-Metriken, Umsatz, Pipeline und Churn."),
        ("Pipeline, Churn und NPS", "gelten SQL-Metriken, Umsatz, Pipeline, Churn und NPS."),
        ("Pipeline; Churn,", "gelten SQL-Metriken, Umsatz, Pipeline und Churn."),
    ],
)
def test_the_metrics_are_one_german_list_with_und_before_the_last(other, sentence):
    agreement = make_agreement(metric_sql=True, metric_revenue=True, metric_other=other)
    assert f"Als Metriken zur Zielerreichung {sentence}" in visible_text(render(agreement))
