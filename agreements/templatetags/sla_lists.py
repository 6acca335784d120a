"""``{{ items|listed }}``: "a, b und c" in German, "a, b and c" in English."""

from django import template
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def listed(items) -> str:
    return get_text_list([str(item) for item in items], _("und"))
