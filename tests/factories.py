"""Small factories for real objects: users, organisations, memberships, agreements."""

import itertools

from django.contrib.auth import get_user_model

from agreements.enums import Role
from agreements.models import Agreement, Membership, Organisation

_numbers = itertools.count(1)


def make_user(username=None, *, password="secret-pass-123", **fields):
    username = username or f"user{next(_numbers)}"
    fields.setdefault("first_name", username.capitalize())
    fields.setdefault("last_name", "Test")
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def make_organisation(name=None):
    return Organisation.objects.create(name=name or f"Firma {next(_numbers)} AG")


def make_member(organisation, role: Role, username=None, **user_fields):
    user = make_user(username, **user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def make_agreement(organisation=None, **fields):
    """An empty draft: every placeholder still open."""
    return Agreement.objects.create(organisation=organisation or make_organisation(), **fields)


def make_pdf(pages=1, *, password=None) -> bytes:
    """A small real PDF written by pyHanko: ``pages`` empty A4 pages, encrypted if asked."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    for _ in range(pages):
        content = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
        writer.insert_page(PageObject(contents=content, media_box=[0, 0, 595, 842]))
    if password:
        writer.encrypt(owner_pass=password, user_pass=password)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


# Sign-off (agreements.workflow): what a browser would send, and the steps of a normal flow.
def make_request_meta(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) pytest"):
    from agreements.audit import RequestMeta

    return RequestMeta(ip=ip, user_agent=user_agent)


def submit_agreement(agreement, user=None):
    """Submit ``agreement`` for signature as ``user`` (default: its marketing representative)."""
    from agreements.workflow import agreement_submit

    return agreement_submit(
        agreement=agreement,
        user=user or agreement.marketing_representative,
        meta=make_request_meta(),
    )


def sign_agreement(agreement, party, user=None):
    """Sign as the party's representative (or ``user``), for the version now frozen."""
    from agreements.workflow import agreement_sign

    agreement = Agreement.objects.get(pk=agreement.pk)
    user = user or agreement.representative(party)
    return agreement_sign(
        agreement=agreement,
        party=party,
        user=user,
        typed_name=user.get_full_name(),
        content_sha256=agreement.content_sha256,
        meta=make_request_meta(),
    )
