"""Hostile input: whatever is typed into a form, the answer is a page, never a server error.

Property-based (hypothesis): every step of the wizard, the further definitions, the new
SLA form, the sign-off forms and the verify page get random and hostile values (very
long text, control characters, markup and script, SQL, emoji, right-to-left text and
its override characters, dates far out, huge and negative numbers). The answer is a
success or a page with a German message (2xx, 3xx, 409, 422, 400), never a 500, and
markup always comes back escaped, on the page and in the PDF.

Lone surrogates (U+D800..U+DFFF) cannot be sent as such: a browser, like the test
client, sends UTF-8, which has no encoding for them. What can arrive is their invalid
UTF-8 bytes (``%ED%A0%80``); Django decodes those to U+FFFD, which a test below sends.
"""

import re
import shutil
import subprocess
import tempfile
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from agreements.enums import AgreementStatus, Party, Role
from agreements.forms import SignForm
from agreements.models import Agreement, FurtherDefinition
from agreements.pdf import render_agreement_pdf
from agreements.wizard import STEPS
from tests.factories import (
    make_agreement,
    make_complete_agreement,
    make_organisation,
    sign_agreement,
    submit_agreement,
)

pytestmark = pytest.mark.django_db

# Seven examples per form keep the module well under a minute and a half on
# both databases; the hostile values are chosen often, random ones fill the rest.
HOSTILE = settings(
    max_examples=7,
    deadline=None,
    # No shrinking: a 100'000-character counterexample shrinks for minutes; the failing
    # example is printed as found, which is enough to see what broke.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every piece of markup carries the marker: found unescaped, it would run in the page.
MARKUP = [
    '<script>alert("sla-xss")</script>',
    "\"><img src=x onerror=alert('sla-xss')>",
    "'><svg/onload=alert('sla-xss')>",
    "</textarea><script>alert('sla-xss')</script>",
    "<a href=\"javascript:alert('sla-xss')\">klick</a>",
    "<style>@import url(http://sla-xss.invalid/)</style>",
]
UNESCAPED_MARKUP = re.compile(r"<(script|img|svg|a|style)\b[^>]*sla-xss|<script>alert")
SQL = [
    "'; DROP TABLE agreements_agreement; --",
    "1' OR '1'='1",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "_%_%",
]
CONTROL = [
    "\x00",
    "nul\x00byte",
    "".join(map(chr, range(1, 32))) + "\x7f",
    "\r\n\r\nSet-Cookie: sla=1",
    "\x1b[31mrot\x1b[0m",
    "\x85\u2028\u2029",
]
SCRIPTS = [
    "😀🎉 Ziel erreicht 👩‍👩‍👧‍👦",
    "שלום עולם",
    "مرحبا بالعالم ١٢٣",
    "Rechnung\u202efdp.exe\u202c",
    "\u200f\u200e\u2066isolate\u2069\u061c",
    "\ufeffBOM",
    "Z̷̢̛a̸l̶g̵o̴",
    "regelmässig Grüsse ÄÖÜ",
]
TEMPLATE = ["{{ 7|add:7 }}", "{% debug %}", "%(name)s %s %n %x", "${7*7}", "../../etc/passwd"]
FIXED_TEXT = MARKUP + SQL + CONTROL + SCRIPTS + TEMPLATE
DATES = [
    "01.01.0001",
    "1.1.1",
    "0001-01-01",
    "31.12.9999",
    "9999-12-31",
    "31.02.2027",
    "29.02.2027",
    "00.00.0000",
    "32.13.2027",
    "10000-01-01",
    "31.12.99999",
    "-01.01.2027",
    "morgen",
    "2027-W01",
]
NUMBERS = [
    str(10**20),
    str(-(10**20)),
    "-1",
    "0",
    "2147483648",
    "34’000",
    "1e9",
    "NaN",
    "inf",
    "0x10",
    "١٢٣",
    "1.5",
    "",
    " ",
]

long_text = st.builds(
    lambda unit, length: (unit * (length // len(unit) + 1))[:length],
    st.sampled_from([*FIXED_TEXT, "x"]),
    st.integers(10_000, 100_000),
)
# Lone surrogates excluded: they cannot be encoded for sending (see the module docstring).
random_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
# Long text one time in five: it is the slowest to send and render.
hostile_text = st.one_of(
    st.sampled_from(FIXED_TEXT), random_text, st.sampled_from(FIXED_TEXT), random_text, long_text
)
hostile_date = st.one_of(st.sampled_from(DATES), random_text)
hostile_number = st.one_of(
    st.sampled_from(NUMBERS), st.integers(-(10**25), 10**25).map(str), random_text
)
any_value = st.one_of(hostile_text, hostile_date, hostile_number)

# What a German page about a refused input says (wizard, sign page, verify page).
GERMAN_REFUSALS = (
    "Bitte korrigieren Sie die markierten Angaben",  # a wizard step
    "Prüfen Sie die Angaben und speichern Sie erneut",  # 409: someone saved meanwhile
    "Es wurde nichts unterzeichnet.",  # the sign page
    'class="invalid-feedback" id="id_pdf-errors">',  # the verify page, next to the field
)


def assert_escaped(html: str) -> None:
    match = UNESCAPED_MARKUP.search(html)
    assert match is None, f"unescaped markup in the page: {html[match.start() - 80 : match.end()]}"


def assert_answered(response, *, allowed=(200, 302, 400, 409, 422)) -> None:
    """A page or a redirect, never a server error; refusals say so in German."""
    assert response.status_code < 500
    assert response.status_code in allowed, response.status_code
    if response.status_code in (409, 422):
        assert any(phrase in response.text for phrase in GERMAN_REFUSALS), response.text[:2000]
    if response.status_code < 300:
        assert_escaped(response.text)


def draw_form_data(data, form_class, *, valid=None):
    """A value for every field of ``form_class`` (or none at all), mostly hostile."""
    valid = valid or {}
    values = {}
    for name in form_class.base_fields:
        choices = [any_value, st.none()]
        if name in valid:
            choices.append(st.just(valid[name]))
        value = data.draw(st.one_of(*choices), label=name)
        if value is not None:
            values[name] = value
    return values


# --- The wizard ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", [step for step in STEPS if step.form_class], ids=lambda s: s.slug)
@HOSTILE
@given(data=st.data())
def test_every_wizard_step_answers_hostile_input_with_a_page(client, team, step, data):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    values = draw_form_data(
        data,
        step.form_class,
        valid={
            "base_revision": str(agreement.revision),
            "marketing_representative": str(team["marketing"].pk),
            "sales_representative": str(team["sales"].pk),
            "rate_x_stage": "leads",
        },
    )
    values["go"] = data.draw(st.sampled_from(["next", "previous", "stay", "<script>"]))
    if data.draw(st.booleans(), label="goto"):
        values["goto"] = data.draw(hostile_text, label="goto value")

    response = client.post(reverse("agreement_step", args=[agreement.pk, step.slug]), values)

    assert_answered(response)
    if response.status_code == 302:
        assert_answered(client.get(response["Location"]))
    # Whatever was stored is shown escaped, in the wizard and on the agreement's page.
    assert_answered(client.get(reverse("agreement_step", args=[agreement.pk, "pruefen"])))


@HOSTILE
@given(data=st.data())
def test_the_further_definitions_answer_hostile_input_with_a_page(client, team, data):
    agreement = make_agreement(team["organisation"])
    existing = FurtherDefinition.objects.create(agreement=agreement, term="Lead", text="Ein Lead")
    client.force_login(team["marketing"])
    count = data.draw(st.integers(0, 3), label="forms")
    values = {
        "base_revision": str(agreement.revision),
        "go": "stay",
        "definitions-TOTAL_FORMS": data.draw(
            st.one_of(st.just(str(count)), hostile_number), label="TOTAL_FORMS"
        ),
        "definitions-INITIAL_FORMS": data.draw(
            st.one_of(st.just("1"), hostile_number), label="INITIAL_FORMS"
        ),
        "definitions-MIN_NUM_FORMS": "0",
        "definitions-MAX_NUM_FORMS": data.draw(st.one_of(st.just("30"), hostile_number)),
    }
    for index in range(count):
        prefix = f"definitions-{index}-"
        values[prefix + "term"] = data.draw(hostile_text, label="term")
        values[prefix + "text"] = data.draw(hostile_text, label="text")
        values[prefix + "id"] = data.draw(
            st.one_of(st.just(str(existing.pk)), st.just(""), hostile_number), label="id"
        )
        if data.draw(st.booleans(), label="delete"):
            values[prefix + "DELETE"] = data.draw(st.one_of(st.just("on"), hostile_text))
    if data.draw(st.booleans(), label="add"):
        values["add_definition"] = "1"

    response = client.post(reverse("agreement_step", args=[agreement.pk, "definitionen"]), values)

    assert_answered(response)
    assert_answered(client.get(reverse("agreement_step", args=[agreement.pk, "definitionen"])))
    assert_answered(client.get(reverse("agreement_step", args=[agreement.pk, "pruefen"])))


def test_one_definition_removed_twice_in_one_post_is_removed_once(client, team):
    """A tampered form names the same definition in two rows, both to delete (found above)."""
    agreement = make_agreement(team["organisation"])
    existing = FurtherDefinition.objects.create(agreement=agreement, term="Lead", text="Ein Lead")
    client.force_login(team["marketing"])
    values = {
        "base_revision": str(agreement.revision),
        "go": "stay",
        "definitions-TOTAL_FORMS": "2",
        "definitions-INITIAL_FORMS": "2",
        "definitions-MIN_NUM_FORMS": "0",
        "definitions-MAX_NUM_FORMS": "30",
    }
    for index in range(2):
        prefix = f"definitions-{index}-"
        values |= {prefix + "term": "Lead", prefix + "text": "Ein Lead"}
        values |= {prefix + "id": str(existing.pk), prefix + "DELETE": "on"}

    response = client.post(reverse("agreement_step", args=[agreement.pk, "definitionen"]), values)

    assert_answered(response)
    assert not FurtherDefinition.objects.filter(pk=existing.pk).exists()


@HOSTILE
@given(data=st.data())
def test_a_new_agreement_answers_hostile_input_with_a_page(client, team, data):
    # A second organisation: the form then asks which one, another field to attack.
    second = make_organisation()
    user = team["marketing"]
    if data.draw(st.booleans(), label="two organisations"):
        from agreements.models import Membership

        Membership.objects.create(user=user, organisation=second, role=Role.MARKETING)
    client.force_login(user)
    values = {
        name: data.draw(st.one_of(any_value, st.none()), label=name)
        for name in ("start_date", "end_date", "geographic_unit", "group_subgroup")
    }
    values["organisation"] = data.draw(
        st.one_of(st.just(str(second.pk)), hostile_number), label="organisation"
    )
    values = {name: value for name, value in values.items() if value is not None}
    before = Agreement.objects.count()

    response = client.post(reverse("agreement_create"), values)

    assert_answered(response)
    if response.status_code == 302:
        assert Agreement.objects.count() == before + 1
        assert_answered(client.get(response["Location"]))
    else:
        assert Agreement.objects.count() == before


def test_invalid_utf8_in_place_of_a_lone_surrogate_is_stored_as_a_replacement_character(
    client, team
):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])
    body = (
        f"base_revision={agreement.revision}&go=stay&geographic_unit=Z%ED%A0%80rich"
        f"&group_subgroup={quote('<script>alert(1)</script>')}"
    )

    response = client.post(
        reverse("agreement_step", args=[agreement.pk, "grunddaten"]),
        body,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.geographic_unit.startswith("Z\ufffd") and "rich" in agreement.geographic_unit
    page = client.get(reverse("agreement_step", args=[agreement.pk, "pruefen"])).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_a_null_byte_is_refused_with_a_german_message(client, team):
    agreement = make_agreement(team["organisation"])
    client.force_login(team["marketing"])

    response = client.post(
        reverse("agreement_step", args=[agreement.pk, "grunddaten"]),
        {"base_revision": agreement.revision, "geographic_unit": "Zürich\x00"},
    )

    assert response.status_code == 422
    assert "Nullzeichen" in response.text
    agreement.refresh_from_db()
    assert agreement.geographic_unit == ""


# --- The dashboard's search and filters (GET parameters reach the database too) ----------


@HOSTILE
@given(query=any_value, status=any_value, page=hostile_number)
def test_the_dashboard_answers_hostile_search_and_filters(client, team, query, status, page):
    make_agreement(team["organisation"], geographic_unit=MARKUP[0])
    client.force_login(team["sales"])

    response = client.get(reverse("dashboard"), {"q": query, "status": status, "page": page})

    assert_answered(response, allowed=(200,))


def test_a_null_byte_in_the_search_is_ignored(client, team):
    make_agreement(team["organisation"], geographic_unit="Zürich")
    make_agreement(team["organisation"], geographic_unit="Bern")
    client.force_login(team["sales"])

    response = client.get(reverse("dashboard"), {"q": "Zür\x00ich"})

    assert response.status_code == 200
    assert "Zürich" in response.text and "Bern" not in response.text


# --- Sign-off ---------------------------------------------------------------------------


@HOSTILE
@given(data=st.data())
def test_the_sign_form_answers_hostile_input_with_a_page(client, data):
    agreement = submit_agreement(make_complete_agreement())
    signer = agreement.marketing_representative
    client.force_login(signer)
    values = draw_form_data(
        data,
        SignForm,
        valid={
            "password": "secret-pass-123",
            "typed_name": signer.get_full_name(),
            "consent": "on",
            "content_sha256": agreement.content_sha256,
        },
    )

    response = client.post(reverse("agreement_sign", args=[agreement.pk]), values)

    assert_answered(response)
    signed = agreement.signatures.filter(voided_at__isnull=True).exists()
    assert signed == (response.status_code == 302)
    assert_answered(client.get(reverse("agreement_detail", args=[agreement.pk])))


@HOSTILE
@given(reason=st.one_of(hostile_text, st.none()), party=st.sampled_from(list(Party)))
def test_declining_answers_hostile_reasons_with_a_page(client, reason, party):
    agreement = submit_agreement(make_complete_agreement())
    client.force_login(agreement.representative(party))

    response = client.post(
        reverse("agreement_decline", args=[agreement.pk]),
        {} if reason is None else {"reason": reason},
    )

    assert_answered(response, allowed=(302,))
    detail = client.get(response["Location"])
    assert_answered(detail)
    agreement.refresh_from_db()
    if agreement.status == AgreementStatus.DRAFT:
        assert "Sie haben die Vereinbarung abgelehnt" in detail.text
    else:
        assert agreement.status == AgreementStatus.AWAITING_SIGNATURES
        assert (
            "Bitte" in detail.text or "Stellen Sie sicher" in detail.text or "Null" in (detail.text)
        )


@HOSTILE
@given(reason=st.one_of(hostile_text, st.none()))
def test_reopening_answers_hostile_reasons_with_a_page(client, reason):
    agreement = submit_agreement(make_complete_agreement())
    sign_agreement(agreement, Party.SALES)
    client.force_login(agreement.marketing_representative)

    response = client.post(
        reverse("agreement_reopen", args=[agreement.pk]),
        {} if reason is None else {"reason": reason},
    )

    assert_answered(response, allowed=(302,))
    assert_answered(client.get(response["Location"]))


@HOSTILE
@given(revision=st.one_of(hostile_number, hostile_text))
def test_submitting_answers_a_hostile_revision_with_a_page(client, revision):
    agreement = make_complete_agreement()
    client.force_login(agreement.marketing_representative)

    response = client.post(reverse("agreement_submit", args=[agreement.pk]), {"revision": revision})

    assert_answered(response, allowed=(302,))
    assert_answered(client.get(response["Location"]))
    agreement.refresh_from_db()
    submitted = agreement.status == AgreementStatus.AWAITING_SIGNATURES
    assert submitted == (revision.strip() == "1")


# --- The verify page -----------------------------------------------------------------------


@HOSTILE
@given(
    name=st.one_of(hostile_text.filter(lambda name: 0 < len(name) < 200), st.just("SLA.pdf")),
    content=st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=2000).map(lambda tail: b"%PDF-1.7\n" + tail),
        st.sampled_from([b"", b"%PDF-", b"%PDF-1.4\n%%EOF\n", b"\x00" * 100]),
    ),
    field_text=st.one_of(st.none(), any_value),
)
def test_the_verify_page_answers_hostile_uploads_with_a_page(
    client, team, settings, name, content, field_text
):
    client.force_login(team["sales"])
    # The client builds the multipart body itself; control characters in a file name
    # would make it invalid before it leaves, so the name is kept printable here.
    name = "".join(char for char in name if char.isprintable()) or "x.pdf"
    files = {"pdf": SimpleUploadedFile(name, content, content_type="application/pdf")}
    if field_text is not None:
        files = {"pdf": field_text}

    response = client.post(reverse("pdf_verify"), files)

    assert_answered(response, allowed=(200, 422))
    assert_escaped(response.text)
    if response.status_code == 200:
        assert "Nicht authentisch" in response.text


# --- The PDF: markup stays text, nothing gets injected -----------------------------------

pdf_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdfimages")),
    reason="poppler-utils missing (`make browsers` installs them)",
)


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        command = [tool, *args, file.name] + (["-"] if tool == "pdftotext" else [])
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# Each text goes into another field; the second column is what pdftotext must find.
PDF_TEXTS = {
    "geographic_unit": ('<script>alert("sla-xss")</script>', None),
    "group_subgroup": (
        "<img src=\"file:///etc/passwd\"> <a href='https://sla-xss.invalid/'>L</a>",
        None,
    ),
    "system_name": ("<style>body{background:url(http://127.0.0.1/)}</style>Stil", None),
    "marketing_function": ("'; DROP TABLE agreements_agreement; --", None),
    "sales_function": ("{{ agreement.pk }} {% debug %}", None),
    # Control characters are printed as empty glyphs, and pdftotext gives them back.
    "metric_other": ("Steuer\x01zeichen\x1f und\x7f Ende", None),
    "marketing_deputy": ("😀 Ziel erreicht, regelmässig", "Ziel erreicht, regelmässig"),
    # The override reverses what follows it on paper, as it would in any editor: the
    # letters are all there, in the order the reader sees (see the report on issue 6).
    "sales_deputy": ("Rechnung\u202efdp.exe\u202c & Co.", "Rechnungexe.pdf & Co."),
    # Long: flows over pages, so only one piece is looked for whole (and counted below).
    "definition_leads": ("<b>fett?</b> " * 1000, "<b>fett?</b>"),
}


@pdf_tools
def test_hostile_text_is_printed_as_text_in_the_pdf_and_injects_nothing():
    agreement = make_complete_agreement()
    Agreement.objects.filter(pk=agreement.pk).update(
        **{field: text for field, (text, _) in PDF_TEXTS.items()}
    )
    FurtherDefinition.objects.create(
        agreement=agreement, term="<iframe src=//sla-xss.invalid>", text=MARKUP[1]
    )
    agreement.refresh_from_db()

    pdf = render_agreement_pdf(agreement, draft=True)

    printed = squeeze(poppler("pdftotext", pdf))
    for field, (text, expected) in PDF_TEXTS.items():
        assert squeeze(expected or text) in printed, field
    assert printed.count("<b>fett?</b>") >= 990  # a page break may split one
    assert squeeze("<iframe src=//sla-xss.invalid>") in printed
    assert squeeze(MARKUP[1]) in printed
    assert "JavaScript" not in poppler("pdfinfo", pdf, "-js").replace("JavaScript:", "", 1)
    urls = poppler("pdfinfo", pdf, "-url")
    assert "sla-xss" not in urls and "127.0.0.1" not in urls and "file:" not in urls
    assert b"/JavaScript" not in pdf and b"/Launch" not in pdf
    # pdfimages -list: two header lines, then one line per image; the document has none.
    assert len(poppler("pdfimages", pdf, "-list").splitlines()) == 2
