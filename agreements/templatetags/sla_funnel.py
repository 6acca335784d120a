"""``{% funnel_chart doc.funnel %}``: the appendix's funnel drawn as inline SVG."""

from django import template

from agreements.funnel import funnel_svg

register = template.Library()


@register.simple_tag
def funnel_chart(rows):
    return funnel_svg(rows)
