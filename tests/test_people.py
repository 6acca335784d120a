"""How the portal names a person (agreements.people and the template filter)."""

import pytest
from django.template import Context, Template

from agreements.people import display_name
from tests.factories import make_user


@pytest.mark.django_db
def test_a_person_is_named_by_full_name_else_by_user_name():
    anna = make_user("akeller", first_name="Anna", last_name="Keller")
    nameless = make_user("tmueller", first_name="", last_name="")

    assert display_name(anna) == "Anna Keller"
    assert display_name(nameless) == "tmueller"
    assert display_name(None) == ""


@pytest.mark.django_db
def test_templates_name_a_person_the_same_way_and_escape_it():
    user = make_user("x", first_name="<b>Anna</b>", last_name="Keller")
    template = Template("{% load sla_people %}{{ user|display_name }}|{{ nobody|display_name }}")

    html = template.render(Context({"user": user, "nobody": None}))

    assert html == "&lt;b&gt;Anna&lt;/b&gt; Keller|"
