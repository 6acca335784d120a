"""The interface speaks German (de-CH) or English; the SLA document always German.

Also checks the English catalogue itself: every entry translated, none fuzzy, the
placeholders kept, and the committed .mo compiled from the current .po.
"""

import ast
import datetime
import gettext
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from agreements.document import SlaDocument
from agreements.enums import Role
from agreements.models import Agreement
from tests.factories import make_agreement, make_member, make_organisation

PO_FILE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
DOCUMENT_OPENING = "Diese Leistungsvereinbarung (nachfolgend SLA)"


def in_english(client, how: str):
    """Make ``client`` ask for English the way a browser would: cookie or header."""
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return {}
    return {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture
def author(db):
    organisation = make_organisation("Beispiel AG")
    return make_member(organisation, Role.MARKETING, "lena", first_name="Lena")


@pytest.fixture
def draft(author):
    return make_agreement(author.memberships.get().organisation)


# (a) The language a browser asks for, and German by default.


@pytest.mark.parametrize("how", ["cookie", "accept-language"])
def test_dashboard_in_english_when_the_browser_asks_for_it(client, author, how):
    client.force_login(author)
    response = client.get(reverse("dashboard"), **in_english(client, how))
    assert '<html lang="en">' in response.text
    for text in ("Sign out", "Dashboard", "Service-level agreements", "New SLA"):
        assert text in response.text
    assert "Abmelden" not in response.text


def test_english_pages_keep_swiss_dates(client, author, draft):
    Agreement.objects.filter(pk=draft.pk).update(
        start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 12, 31)
    )
    client.force_login(author)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = client.get(reverse("dashboard")).text
    assert "01.01.2027–31.12.2027" in text
    assert "12/31/2027" not in text


def test_dashboard_in_german_by_default(client, author):
    client.force_login(author)
    response = client.get(reverse("dashboard"))
    assert '<html lang="de-ch">' in response.text
    for text in ("Abmelden", "Übersicht", "Leistungsvereinbarungen", "Neues SLA"):
        assert text in response.text
    assert "Sign out" not in response.text


@pytest.mark.parametrize("how", ["cookie", "accept-language"])
def test_wizard_step_in_english(client, author, draft, how):
    client.force_login(author)
    url = reverse("agreement_step", args=[draft.pk, "parteien"])
    response = client.get(url, **in_english(client, how))
    text = response.text
    for label in ("Next", "Save", "Back", "Parties", "Marketing representative", "Sign out"):
        assert label in text
    assert "Step 2 of 9: Parties" in text
    assert "Fills section 3 and the signatures of the SLA" in text
    for german in ("Weiter", "Speichern", "Vertretung Marketing"):
        assert f">{german}" not in text


def test_wizard_step_in_german_by_default(client, author, draft):
    client.force_login(author)
    response = client.get(reverse("agreement_step", args=[draft.pk, "parteien"]))
    for label in ("Weiter", "Speichern", "Zurück", "Parteien", "Vertretung Marketing"):
        assert label in response.text
    assert "Next" not in response.text


def test_validation_errors_in_english(client, author, draft):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(author)
    response = client.post(
        reverse("agreement_step", args=[draft.pk, "grunddaten"]),
        {"base_revision": draft.revision, "start_date": "31.02.2027", "go": "next"},
    )
    assert response.status_code == 422
    assert "Please correct the marked entries:" in response.text
    assert "Please enter a valid date, e.g. 31.12.2027." in response.text


@pytest.mark.parametrize("how", ["cookie", "accept-language"])
def test_login_page_in_english(client, db, how):
    response = client.get(reverse("account_login"), **in_english(client, how))
    for text in ("Sign in", "Username", "Password", "The SLA Portal for Marketing and Sales"):
        assert text in response.text
    assert "Anmelden" not in response.text


def test_login_page_in_german_by_default(client, db):
    response = client.get(reverse("account_login"))
    for text in ("Anmelden", "Benutzername", "Passwort"):
        assert text in response.text
    assert "Sign in" not in response.text


# (b) The DE/EN switch.


def test_the_language_switch_sets_english_for_the_following_pages(client, author):
    client.force_login(author)
    assert "Abmelden" in client.get(reverse("dashboard")).text

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(response["Location"]).text
    assert "Sign out" in page
    assert "Abmelden" not in page

    client.post(reverse("set_language"), {"language": "de-ch", "next": "/"})
    assert "Abmelden" in client.get(reverse("dashboard")).text


def test_the_switch_offers_both_languages_and_marks_the_current_one(client, author):
    client.force_login(author)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = client.get(reverse("dashboard")).text
    assert re.search(r'value="en"[^>]*aria-current="true"', text)
    assert re.search(r'value="de-ch"[^>]*btn-outline-secondary[^>]*>DE', text)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de-ch"
    text = client.get(reverse("dashboard")).text
    assert re.search(r'value="de-ch"[^>]*aria-current="true"', text)
    assert not re.search(r'value="en"[^>]*aria-current', text)


# (c) The SLA document stays German.


def test_the_sla_document_stays_german_in_the_english_interface(client, demo_agreement):
    client.force_login(demo_agreement.marketing_representative)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("agreement_detail", args=[demo_agreement.pk]))
    assert "Sign out" in response.text
    assert DOCUMENT_OPENING in response.text
    assert "Für „Marketing“" in response.text


def test_missing_list_is_english_while_the_document_marks_stay_german(client, author, draft):
    client.force_login(author)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("agreement_step", args=[draft.pk, "pruefen"]))
    text = response.text
    for label in ("Start date", "Marketing representative", "Definition of Visits"):
        assert f">{label}</a>" in text
    assert "Funnel ATTRACT Visits" in text
    assert "entries are still missing:" in text
    assert '<mark class="placeholder" title="Fehlt: Startdatum">[START_DATUM]</mark>' in text
    assert 'title="Fehlt: Definition Visits"' in text


@pytest.mark.parametrize("fixture", ["demo_agreement", "draft"])
def test_the_document_renders_identically_in_both_languages(request, fixture):
    agreement = request.getfixturevalue(fixture)

    def render(language):
        with translation.override(language):
            return render_to_string(
                "agreements/document.html", {"doc": SlaDocument(agreement), "agreement": agreement}
            )

    german = render("de-ch")
    assert render("en") == german
    assert DOCUMENT_OPENING in german


# (d) The catalogue: complete, nothing fuzzy, placeholders kept.


@dataclass
class PoEntry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The entry's key in ``GNUTranslations._catalog`` (context joined by EOT)."""
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def parse_po(path: Path) -> list[PoEntry]:
    """The entries of a .po file, header and obsolete (#~) entries left out.

    Enough of the format for what makemessages writes: flags, msgctxt, msgid,
    msgid_plural, msgstr / msgstr[n], each possibly continued on following lines.
    """
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry = PoEntry(msgid="")
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(
                r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line
            ):
                keyword, value = match.group(1), ast.literal_eval(match.group(2))
                if keyword.startswith("msgstr"):
                    entry.msgstrs.append(value)
                    current = ("msgstr", len(entry.msgstrs) - 1)
                else:
                    setattr(entry, keyword, value)
                    current = (keyword, None)
            elif line.startswith('"') and current:
                value = ast.literal_eval(line)
                if current[0] == "msgstr":
                    entry.msgstrs[current[1]] += value
                else:
                    setattr(entry, current[0], getattr(entry, current[0]) + value)
        if entry.msgid:
            entries.append(entry)
    return entries


# %(name)s / %(n)d, {name}, and a lone %s.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}|%[sdif]")


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    entries = parse_po(PO_FILE)
    assert len(entries) > 300, "the parser found too few entries to be reading the file"
    return entries


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries):
    untranslated = [e.msgid for e in po_entries if not all(e.msgstrs)]
    fuzzy = [e.msgid for e in po_entries if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated} (run `make messages`, translate)"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")  # the header included


def test_plural_entries_have_both_english_forms(po_entries):
    for entry in (e for e in po_entries if e.msgid_plural):
        assert len(entry.msgstrs) == 2 and entry.msgstrs[0] != entry.msgstrs[1], entry.msgid


def test_translations_keep_every_placeholder(po_entries):
    for entry in po_entries:
        sources = [entry.msgid, entry.msgid_plural or entry.msgid]
        for index, translated in enumerate(entry.msgstrs):
            expected = sorted(PLACEHOLDER.findall(sources[min(index, 1)]))
            assert sorted(PLACEHOLDER.findall(translated)) == expected, entry.msgid


def test_the_committed_mo_holds_exactly_the_entries_of_the_po(po_entries):
    with MO_FILE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    mo_keys = {key[0] if isinstance(key, tuple) else key for key in catalog} - {""}
    assert mo_keys == {entry.key for entry in po_entries}


# (e) The .mo is compiled from the current .po.


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def test_the_committed_mo_is_compiled_from_the_current_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        message = "msgfmt is missing (Debian package gettext), cannot recompile the .po"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO_FILE)], check=True)

    def contents(path: Path) -> dict:
        with path.open("rb") as handle:
            return gettext.GNUTranslations(handle)._catalog

    assert contents(MO_FILE) == contents(fresh), "the .mo is stale: run `make messages`"
