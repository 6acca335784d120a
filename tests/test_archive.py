"""The signed PDF stored once (agreements.archive): rendered with the real signatures,
sealed, and kept.

The demo's 2026 SLA is signed through the workflow; its completion hook stores the PDF
(the ``signed_demo`` fixture runs the on-commit callbacks). The stored file is read back
with poppler's tools, as a reader's PDF viewer would see it.
"""

import hashlib
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agreements.archive import (
    SignedPdfError,
    signed_pdf_filename,
    signed_pdf_store,
)
from agreements.document import swiss_date
from agreements.enums import AgreementStatus, AuditAction, Party
from agreements.models import Agreement, AuditEvent
from tests.factories import sign_agreement, submit_agreement, tamper
from tests.test_document import body_fragments
from tests.test_pdf import body_text, pages, poppler, squeeze

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pdftotext", "pdfsig")),
        reason="poppler-utils missing (`make browsers` installs them)",
    ),
]


def stored_path(agreement, settings) -> Path:
    return Path(settings.MEDIA_ROOT) / agreement.signed_pdf.name


def stored_bytes(agreement, settings) -> bytes:
    return stored_path(agreement, settings).read_bytes()


def pdfsig(path: Path) -> str:
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    return result.stdout + result.stderr


def events(agreement, action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(agreement=agreement, action=action))


def today_in_zurich() -> str:
    return swiss_date(timezone.localdate())


# --- Stored once --------------------------------------------------------------------------


def test_completion_stores_the_sealed_pdf_with_its_hash_and_an_audit_event(signed_demo, settings):
    assert signed_demo.status == AgreementStatus.SIGNED
    assert re.fullmatch(r"signed/[0-9a-f]{32}\.pdf", signed_demo.signed_pdf.name)
    content = stored_bytes(signed_demo, settings)
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == signed_demo.signed_pdf_sha256
    assert signed_demo.signed_pdf_stored_at is not None
    [stored] = events(signed_demo, AuditAction.PDF_STORED)
    assert stored.details == {"sha256": signed_demo.signed_pdf_sha256, "size": len(content)}
    assert stored.actor is None


def test_storing_again_changes_nothing(signed_demo, settings):
    before = stored_bytes(signed_demo, settings)

    again = signed_pdf_store(agreement_id=signed_demo.pk)

    assert again.signed_pdf.name == signed_demo.signed_pdf.name
    assert stored_bytes(again, settings) == before
    assert len(events(signed_demo, AuditAction.PDF_STORED)) == 1
    assert list((Path(settings.MEDIA_ROOT) / "signed").iterdir()) == [
        stored_path(signed_demo, settings)
    ]


def test_the_stored_file_carries_a_valid_seal_over_the_whole_document(signed_demo, settings):
    report = pdfsig(stored_path(signed_demo, settings))
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def test_the_stored_pdf_has_every_fixed_sentence_the_names_dates_and_figures(signed_demo, settings):
    pdf = stored_bytes(signed_demo, settings)
    text = poppler("pdftotext", pdf)
    squeezed, position = squeeze(body_text(pdf)), 0
    for fragment in body_fragments():
        found = squeezed.find(squeeze(fragment), position)
        assert found >= 0, f"missing or out of order: {fragment!r}"
        position = found + len(squeeze(fragment))
    for value in ("Muster AG", "01.01.2026", "31.12.2026", "14.11.2025", "01.12.2026",
                  "Muster Inbound Playbook 2026", "Anna Keller", "Marco Brunner"):  # fmt: skip
        assert value in text, value
    assert not re.search(r"\[[A-ZÄÖÜ_ ,/]+\]", text), "a placeholder was left"
    assert "……." not in text

    [appendix] = [page for page in pages(pdf) if "ANHANG: Inbound Marketing" in page]
    for figure in ("28’500", "400", "480", "250", "220", "170"):
        assert figure in appendix
    for rate in ("1,4 %", "1,2 : 1", "52,1 %", "88,0 %", "77,3 %"):
        assert rate in appendix.replace("\u00a0", " ")


def test_the_signature_block_names_each_signer_with_function_and_date(signed_demo, settings):
    pdf = stored_bytes(signed_demo, settings)
    flat = " ".join(body_text(pdf).split())
    block = flat[
        flat.index("einverstanden erklären sich:") : flat.index("ANHANG: Inbound Marketing")
    ]
    for name, function in (
        ("Anna Keller", "Leiterin Inbound Marketing"),
        ("Marco Brunner", "Leiter Inbound Sales"),
    ):
        assert name in block and function in block, block
    assert block.count(today_in_zurich()) >= 2, block


def test_the_page_and_the_pdf_fill_the_signature_block_alike(client, signed_demo, settings):
    client.login(username="management", password="demo")
    html = client.get(reverse("agreement_detail", args=[signed_demo.pk])).text
    section = re.search(r'<section class="sla-signatures".*?</section>', html, re.DOTALL)
    page_block = " ".join(re.sub(r"<[^>]+>", " ", section.group()).split())
    flat = " ".join(body_text(stored_bytes(signed_demo, settings)).split())
    pdf_block = flat[flat.index("einverstanden erklären sich:") : flat.index("ANHANG: Inbound")]
    today = today_in_zurich()
    for value in (f"Elektronisch unterzeichnet am {today}, ",
                  "Anna Keller Leiterin Inbound Marketing",
                  "Marco Brunner Leiter Inbound Sales", "Nachweis: Prüfprotokoll"):  # fmt: skip
        assert value in page_block, page_block
        assert value in pdf_block, pdf_block
    # The page links the evidence to its own audit trail, the PDF to its audit page.
    assert 'href="#audit"' in section.group()


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf missing (.ci/run installs it)")
def test_the_embedded_content_hashes_to_the_printed_and_the_stored_sha256(signed_demo, settings):
    """What docs/evidence.md tells a reader to do, with the same standard tool."""
    path = stored_path(signed_demo, settings)

    listing = subprocess.run(
        ["qpdf", "--list-attachments", str(path)], capture_output=True, text=True, check=True
    ).stdout
    content = subprocess.run(
        ["qpdf", "--show-attachment=SLA-Inhalt.json", str(path)], capture_output=True, check=True
    ).stdout

    assert listing.split() == ["SLA-Inhalt.json", "->", listing.split()[2]]  # only it
    digest = hashlib.sha256(content).hexdigest()
    audit_page = squeeze(pages(stored_bytes(signed_demo, settings))[-1])
    assert f"SHA256desunterzeichnetenInhalts{digest}" in audit_page  # printed
    assert digest == signed_demo.content_sha256  # stored on submission, signed by both
    assert json.loads(content) == signed_demo.content_snapshot


def test_the_audit_page_states_the_real_signatures_and_where_to_verify(signed_demo, settings):
    pdf = stored_bytes(signed_demo, settings)
    audit = " ".join(pages(pdf)[-1].split())
    assert "Prüfprotokoll" in audit
    assert f"Nr. {signed_demo.pk}, Version {signed_demo.revision}" in audit
    assert signed_demo.content_sha256 in squeeze(audit)
    for value in ("Anna Keller", "Leiterin Inbound Marketing", "marketing",
                  "Marco Brunner", "Leiter Inbound Sales", "sales", "192.0.2.26"):  # fmt: skip
        assert value in audit, value
    assert squeeze("SLA-Portal Demodaten (manage.py load_demo)") in squeeze(audit)
    assert f"{settings.SLA_SITE_URL}/pruefen/" in audit
    # Where the signed content is, and how to recompute its hash without the portal.
    assert "als Anhang „SLA-Inhalt.json“ bei" in audit
    assert "qpdf --show-attachment=SLA-Inhalt.json DATEI | sha256sum" in audit


def test_a_draft_is_never_stored(demo_agreement):
    with pytest.raises(SignedPdfError, match="not signed"):
        signed_pdf_store(agreement_id=demo_agreement.pk)
    assert not Agreement.objects.get(pk=demo_agreement.pk).signed_pdf


def test_content_changed_after_signing_is_not_stored(demo_agreement):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.MARKETING)
    sign_agreement(demo_agreement, Party.SALES)
    # A change that bypassed the workflow (e.g. straight in the database).
    tamper(Agreement.objects.filter(pk=demo_agreement.pk), sql_target=1)

    with pytest.raises(SignedPdfError, match="no longer matches"):
        signed_pdf_store(agreement_id=demo_agreement.pk)

    assert not Agreement.objects.get(pk=demo_agreement.pk).signed_pdf
    assert events(demo_agreement, AuditAction.PDF_STORED) == []


@pytest.mark.django_db(transaction=True)
def test_two_callers_at_the_same_instant_store_one_pdf(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises all writes anyway)")
    from agreements.demo import load_demo

    agreement = submit_agreement(load_demo())  # commits: the 2026 SLA's PDF is stored
    key_file = settings.SLA_SEAL_KEY_FILE
    settings.SLA_SEAL_KEY_FILE = tmp_path / "missing-key.pem"  # the hook fails: no PDF yet
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)
    assert not Agreement.objects.get(pk=agreement.pk).signed_pdf
    settings.SLA_SEAL_KEY_FILE = key_file
    barrier = threading.Barrier(2)
    names, errors = [], []

    def store():
        try:
            barrier.wait(timeout=10)
            names.append(signed_pdf_store(agreement_id=agreement.pk).signed_pdf.name)
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(names) == 2 and names[0] == names[1]
    assert len(events(agreement, AuditAction.PDF_STORED)) == 1
    # The demo's 2026 SLA (stored by its hook on commit) and this one: two files, not three.
    assert len(list((Path(settings.MEDIA_ROOT) / "signed").iterdir())) == 2


def test_download_names_are_german_and_transliterated(demo_agreement):
    assert signed_pdf_filename(demo_agreement) == "SLA_Muster-AG_2027_unterzeichnet.pdf"
    assert signed_pdf_filename(demo_agreement, draft=True) == "SLA_Muster-AG_2027_Entwurf.pdf"
    demo_agreement.organisation.name = "Müller & Söhne Straßenbau AG (Zürich)"
    assert signed_pdf_filename(demo_agreement) == (
        "SLA_Mueller-Soehne-Strassenbau-AG-Zuerich_2027_unterzeichnet.pdf"
    )
