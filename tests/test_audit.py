"""The hash-chained audit trail: recorded in order, verified, and tampering detected."""

import datetime
import hashlib
import json

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.test import RequestFactory

from agreements.audit import (
    USER_AGENT_MAX_LENGTH,
    RequestMeta,
    audit_record,
    audit_verify,
    audit_verify_head,
    event_hash,
)
from agreements.enums import AuditAction, Party
from agreements.management.commands.verify_audit import Command as VerifyAudit
from agreements.models import Agreement, AuditEvent, Signature
from tests.factories import (
    make_agreement,
    make_request_meta,
    make_user,
    sign_agreement,
    submit_agreement,
    tamper,
    tamper_delete,
)


def signed(agreement) -> Agreement:
    """The demo agreement through a normal flow: submitted, signed by both (4 events)."""
    submit_agreement(agreement)
    sign_agreement(agreement, Party.MARKETING)
    sign_agreement(agreement, Party.SALES)
    return Agreement.objects.get(pk=agreement.pk)


def events(agreement):
    return AuditEvent.objects.filter(agreement=agreement).order_by("sequence")


def expected_hash(event: AuditEvent) -> str:
    """The hash an auditor recomputes from the row alone, written out here rather than
    asked of agreements.audit: SHA-256 over the canonical JSON (sorted keys, no spaces,
    UTF-8) of the row's stored fields and its predecessor's hash."""
    fields = {
        "agreement": event.agreement_id,
        "sequence": event.sequence,
        "action": event.action,
        "actor": event.actor_name,
        "created_at": event.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "details": event.details,
        "previous_hash": event.previous_hash,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_verify_audit(capsys) -> tuple[int, str]:
    """``manage.py verify_audit`` as the shell runs it: its exit status and output."""
    try:
        VerifyAudit().run_from_argv(["manage.py", "verify_audit"])
    except SystemExit as exit_:
        status = exit_.code
    else:
        status = 0
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# Where an action came from


def test_request_meta_takes_the_peer_address_and_the_browser():
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 1000,
        HTTP_X_FORWARDED_FOR="10.9.9.9",  # any client can send this: not trusted
    )

    meta = RequestMeta.from_request(request)

    assert meta.ip == "198.51.100.4"
    assert meta.user_agent.startswith("Mozilla/5.0 ")
    assert len(meta.user_agent) == USER_AGENT_MAX_LENGTH


def test_request_meta_drops_what_is_not_an_ip_address():
    request = RequestFactory().get("/", REMOTE_ADDR="unix-socket")

    assert RequestMeta.from_request(request) == RequestMeta(ip=None, user_agent="")


# Recording


@pytest.mark.django_db
def test_events_are_numbered_and_chained_per_agreement():
    first, second = make_agreement(), make_agreement()
    user = make_user(first_name="Anna", last_name="Keller")

    with transaction.atomic():
        a1 = audit_record(
            agreement=first, action=AuditAction.CREATED, actor=user, meta=RequestMeta()
        )
        b1 = audit_record(agreement=second, action="created", actor=None, meta=RequestMeta())
        a2 = audit_record(
            agreement=first,
            action=AuditAction.STEP_SAVED,
            actor=user,
            meta=make_request_meta(),
            details={"step": "grunddaten"},
        )

    assert [(e.sequence, e.previous_hash) for e in (a1, a2)] == [(1, ""), (2, a1.hash)]
    assert (b1.sequence, b1.previous_hash, b1.actor_name) == (1, "", "System")
    assert a1.actor_name == f"Anna Keller ({user.username})"
    assert a2.hash == expected_hash(AuditEvent.objects.get(pk=a2.pk))
    assert audit_verify(first).intact and audit_verify(second).intact


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    agreement = make_agreement()

    with pytest.raises(TransactionManagementError):
        audit_record(
            agreement=agreement, action=AuditAction.CREATED, actor=None, meta=RequestMeta()
        )

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_values_read_back_from_the_database_hash_the_same():
    """IPv6, umlauts, nested details and microseconds survive the round trip unchanged."""
    agreement = make_agreement()
    with transaction.atomic():
        audit_record(
            agreement=agreement,
            action=AuditAction.STEP_SAVED,
            actor=None,
            meta=RequestMeta(ip="2001:0db8:0000:0000:0000:0000:0000:0001", user_agent="Safari"),
            details={"Änderung": ["Geschäftsleitung", 34000, None, True], "z": {"b": 1, "a": 2}},
        )

    stored = AuditEvent.objects.get(agreement=agreement)
    assert stored.ip_address == "2001:db8::1"
    assert stored.hash == expected_hash(stored)
    assert audit_verify(agreement).intact


@pytest.mark.django_db
def test_an_event_cannot_be_saved_twice(demo_agreement):
    event = events(signed(demo_agreement)).first()
    event.details = {"changed": True}

    with pytest.raises(ValueError, match="append-only"):
        event.save()


# Verifying


def test_the_chain_of_a_normal_sign_off_is_intact(demo_agreement, capsys):
    agreement = signed(demo_agreement)

    report = audit_verify(agreement)

    assert report.intact
    assert report.event_count == 4
    assert report.head_hash == events(agreement).last().hash
    assert list(events(agreement).values_list("action", flat=True)) == [
        AuditAction.SUBMITTED,
        AuditAction.SIGNED,
        AuditAction.SIGNED,
        AuditAction.COMPLETED,
    ]
    status, output = run_verify_audit(capsys)
    assert status == 0
    # The demo's signed 2026 SLA has a trail of its own, intact as well.
    assert "All 2 audit trails are intact. Stored signed PDFs checked: 0" in output


def test_an_agreement_without_events_is_intact(demo_agreement, capsys):
    assert audit_verify(demo_agreement).intact
    assert run_verify_audit(capsys)[0] == 0


def test_an_edited_row_is_detected(demo_agreement, capsys):
    agreement = signed(demo_agreement)
    tamper(events(agreement).filter(sequence=2), details={"party": "sales"})

    report = audit_verify(agreement)

    assert not report.intact
    assert report.broken_sequence == 2
    assert "verändert" in report.message
    status, output = run_verify_audit(capsys)
    assert status == 1
    assert f"Agreement {agreement.pk} " in output
    assert "broken at event 2" in output


def test_an_edited_row_with_its_own_hash_recomputed_breaks_the_next_link(demo_agreement):
    agreement = signed(demo_agreement)
    event = events(agreement).get(sequence=2)
    event.ip_address = "192.0.2.1"
    tamper(events(agreement).filter(pk=event.pk), ip_address="192.0.2.1", hash=event_hash(event))

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, 3)


def test_an_edited_timestamp_is_detected(demo_agreement):
    agreement = signed(demo_agreement)
    first = events(agreement).first()
    tamper(events(agreement).filter(pk=first.pk), created_at=first.created_at.replace(year=2020))

    assert audit_verify(agreement).broken_sequence == 1


@pytest.mark.parametrize("sequence", [1, 3])
def test_a_deleted_row_is_detected(demo_agreement, capsys, sequence):
    agreement = signed(demo_agreement)
    tamper_delete(events(agreement).filter(sequence=sequence))

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, sequence)
    assert "fehlt" in report.message
    assert run_verify_audit(capsys)[0] == 1


def test_a_deleted_last_row_is_detected_by_the_head(demo_agreement, capsys):
    agreement = signed(demo_agreement)
    tamper_delete(events(agreement).filter(action=AuditAction.COMPLETED))

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, 4)
    assert "die letzten wurden gelöscht" in report.message
    assert run_verify_audit(capsys)[0] == 1


def move_head_back(agreement, to: int) -> None:
    """What an attacker who also knows about the head does: set it to the new end."""
    last = events(agreement).get(sequence=to)
    tamper(
        Agreement.objects.filter(pk=agreement.pk),
        audit_head_sequence=to,
        audit_head_hash=last.hash,
    )


def test_a_deleted_last_row_with_the_head_moved_back_is_detected_by_the_state(demo_agreement):
    agreement = signed(demo_agreement)
    tamper_delete(events(agreement).filter(action=AuditAction.COMPLETED))
    move_head_back(agreement, 3)

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, 4)
    assert "Abschluss" in report.message


def test_a_deleted_signature_event_is_detected(demo_agreement):
    submit_agreement(demo_agreement)
    sign_agreement(demo_agreement, Party.SALES)
    tamper_delete(events(demo_agreement).filter(action=AuditAction.SIGNED))
    move_head_back(demo_agreement, 1)

    report = audit_verify(demo_agreement)

    assert not report.intact
    assert "Unterschrift für Sales" in report.message


def test_downloads_deleted_at_the_end_are_detected(signed_demo, capsys):
    # Deleting the last events leaves a chain that is intact link by link, and a state
    # that needs none of them: only the head tells.
    with transaction.atomic():
        for _ in range(3):
            audit_record(
                agreement=signed_demo,
                action=AuditAction.PDF_DOWNLOADED,
                actor=signed_demo.marketing_representative,
                meta=make_request_meta(),
            )
    head = Agreement.objects.get(pk=signed_demo.pk).audit_head_sequence
    tamper_delete(events(signed_demo).filter(sequence__gt=head - 3))

    report = audit_verify(signed_demo)

    assert (report.intact, report.broken_sequence) == (False, head - 2)
    status, output = run_verify_audit(capsys)
    assert status == 1
    assert f"broken at event {head - 2}" in output


def test_an_emptied_trail_is_detected(demo_agreement, capsys):
    # What TRUNCATE does where no trigger refuses it (SQLite, or the tables' owner).
    agreement = signed(demo_agreement)
    tamper_delete(AuditEvent.objects.all())

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, 1)
    assert "die letzten wurden gelöscht" in report.message
    assert not audit_verify_head(agreement).intact
    assert run_verify_audit(capsys)[0] == 1


def test_every_event_moves_the_head_on_the_agreement(demo_agreement):
    agreement = signed(demo_agreement)

    stored = Agreement.objects.get(pk=agreement.pk)

    last = events(agreement).last()
    assert (stored.audit_head_sequence, stored.audit_head_hash) == (last.sequence, last.hash)


# What the triggers cannot stop: raw SQL past them (the tables' owner) or on SQLite


@pytest.mark.parametrize(
    "change",
    [
        {"sql_target": 1},
        {"marketing_deputy": "Jemand anderes"},
        {"reporting_channel_other": "anderes Tool"},
    ],
    ids=["figure", "text", "choice-text"],
)
def test_a_signed_agreements_changed_content_is_detected(demo_agreement, capsys, change):
    agreement = signed(demo_agreement)
    tamper(Agreement.objects.filter(pk=agreement.pk), **change)

    report = audit_verify(agreement)

    assert not report.intact
    assert "Der Inhalt wurde nach dem Einreichen verändert" in report.message
    assert next(iter(change)) in report.message
    assert run_verify_audit(capsys)[0] == 1


def test_a_changed_further_definition_is_detected(demo_agreement):
    agreement = signed(demo_agreement)
    tamper(agreement.further_definitions.all(), text="etwas anderes")

    report = audit_verify(agreement)

    assert not report.intact
    assert "further_definitions" in report.message


def test_a_renamed_organisation_is_not_a_changed_agreement(demo_agreement):
    # Staff may correct names in the admin; what the parties agreed to stays the same.
    agreement = signed(demo_agreement)
    agreement.organisation.name = "Muster Holding AG"
    agreement.organisation.save()

    assert audit_verify(agreement).intact


@pytest.mark.parametrize(
    "field",
    ["typed_name", "user", "signed_at", "ip_address", "content_sha256"],
)
def test_a_changed_signature_is_detected(demo_agreement, capsys, field):
    agreement = signed(demo_agreement)
    signature = Signature.objects.get(agreement=agreement, party=Party.SALES)
    changes = {
        "typed_name": "Jemand Anderes",
        "user": agreement.marketing_representative,
        "signed_at": signature.signed_at - datetime.timedelta(days=3),
        "ip_address": "192.0.2.200",
        "content_sha256": "0" * 64,
    }

    tamper(Signature.objects.filter(pk=signature.pk), **{field: changes[field]})

    report = audit_verify(agreement)
    assert not report.intact
    assert "Die Unterschrift für Sales stimmt nicht mit dem Protokoll überein" in report.message
    assert run_verify_audit(capsys)[0] == 1


def test_the_signed_event_holds_what_the_signature_row_holds(demo_agreement):
    agreement = signed(demo_agreement)
    signature = Signature.objects.get(agreement=agreement, party=Party.MARKETING)

    event = events(agreement).get(action=AuditAction.SIGNED, details__party="marketing")

    assert event.details["user_id"] == signature.user_id
    assert event.details["typed_name"] == signature.typed_name
    assert datetime.datetime.fromisoformat(event.details["signed_at"]) == signature.signed_at
    assert event.ip_address == signature.ip_address


def test_the_page_check_finds_changed_content_and_signatures(demo_agreement):
    agreement = signed(demo_agreement)
    assert audit_verify_head(agreement).intact
    tamper(Agreement.objects.filter(pk=agreement.pk), sql_target=1)

    assert "verändert" in audit_verify_head(agreement).message
    tamper(Agreement.objects.filter(pk=agreement.pk), sql_target=agreement.sql_target)
    tamper(Signature.objects.filter(agreement=agreement), ip_address="192.0.2.7")
    assert "stimmt nicht mit dem Protokoll überein" in audit_verify_head(agreement).message


def test_reordered_rows_are_detected(demo_agreement):
    agreement = signed(demo_agreement)
    rows = events(agreement)
    # Swap events 2 and 3 (through a free number: sequences are unique).
    tamper(rows.filter(sequence=2), sequence=99)
    tamper(rows.filter(sequence=3), sequence=2)
    tamper(rows.filter(sequence=99), sequence=3)

    report = audit_verify(agreement)

    assert (report.intact, report.broken_sequence) == (False, 2)


def test_a_changed_frozen_content_is_detected(demo_agreement):
    agreement = signed(demo_agreement)
    snapshot = agreement.content_snapshot
    snapshot["sql_target"] = 1
    tamper(Agreement.objects.filter(pk=agreement.pk), content_snapshot=snapshot)

    report = audit_verify(agreement)

    assert not report.intact
    assert "eingefrorene Inhalt" in report.message


def test_deleting_a_user_keeps_the_chain_and_the_name(demo_agreement):
    agreement = signed(demo_agreement)
    # What on_delete=SET_NULL does when an actor's account is removed.
    tamper(events(agreement).filter(sequence=1), actor=None)

    assert audit_verify(agreement).intact
    assert events(agreement).first().actor_name == "Anna Keller (marketing)"


def test_only_the_broken_chain_is_reported(demo_agreement, capsys):
    broken = signed(demo_agreement)
    intact = make_agreement()
    with transaction.atomic():
        audit_record(agreement=intact, action=AuditAction.CREATED, actor=None, meta=RequestMeta())
    tamper(events(broken).filter(sequence=4), user_agent="edited")

    status, output = run_verify_audit(capsys)

    assert status == 1
    assert f"Agreement {broken.pk} " in output
    assert f"Agreement {intact.pk} " not in output
    assert "1 of 3 audit trails are broken." in output  # the demo's signed 2026 SLA too
