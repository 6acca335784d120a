"""Template helpers of the negotiation pages."""

from django import template

register = template.Library()


@register.filter
def count_for(counts: dict, key) -> int:
    """``{{ comment_counts|count_for:state.step.slug }}``: a dict's value, 0 when absent."""
    return (counts or {}).get(key, 0)
