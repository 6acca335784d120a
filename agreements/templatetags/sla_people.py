"""``{{ user|display_name }}``: a person as the portal names them (``agreements.people``)."""

from django import template

from ..people import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user) -> str:
    return _display_name(user)
