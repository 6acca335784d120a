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
