from django import template

from quanzi.dashboard import features

register = template.Library()


@register.simple_tag
def extra_nav() -> list[tuple[str, str]]:
    """Menu entries of the feature apps that are installed (campaigns, coupons…)."""
    return features.nav()
