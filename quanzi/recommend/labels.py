"""Words for this app's codes, added to the shared label table from ``ready()``."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "push_topic": {
        "orders": _("Orders"),
        "groups": _("Group buys"),
        "bargains": _("Bargains"),
        "commissions": _("Commissions"),
        "promotions": _("Promotions"),
        "recommendations": _("Recommendations"),
    },
    "recommend_reason": {
        "friends_bought": _("Friends bought this"),
        "similar_taste": _("People with your taste liked it"),
        "popular_nearby": _("Popular near you"),
        "popular": _("Popular"),
        "your_keywords": _("Matches your keywords"),
    },
}


def register() -> None:
    from quanzi.core.labels import LABELS as SHARED

    for kind, words in LABELS.items():
        SHARED.setdefault(kind, {}).update(words)
