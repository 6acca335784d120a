"""The navigation's link to the Team page, for who administers an organisation."""

from django import template

from ...models import Organisation, user_administered_organisations

register = template.Library()


@register.simple_tag
def administered_organisations(user) -> list[tuple[int, str]]:
    """(id, name) of the organisations whose team ``user`` administers.

    No query for everyone else: the ids come with the memberships every page reads.
    """
    ids = user_administered_organisations(user)
    if not ids:
        return []
    return list(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
