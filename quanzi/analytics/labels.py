"""Words for the codes analytics shows (channels, factors, funnel steps)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def register_labels() -> None:
    from quanzi.core.labels import LABELS

    LABELS["analytics_channel"] = {
        "all": _("All channels"),
        "direct": _("Direct"),
        "share": _("Shared links"),
        "group": _("Group buy"),
        "bargain": _("Bargain"),
        "membership": _("Membership"),
        "community": _("Community group buying"),
        "note": _("Notes"),
        "lottery": _("Lottery prize"),
        "circle": _("Circles"),
        "partner": _("Partners"),
    }
    LABELS["gmv_factor"] = {
        "visitors": _("Visitors"),
        "conversion": _("Conversion"),
        "aov": _("Average order value"),
        "repeat": _("Repeat factor"),
    }
    LABELS["funnel_step"] = {
        "view": _("Viewed"),
        "cart": _("Carted"),
        "order": _("Ordered"),
        "pay": pgettext_lazy("funnel", "Paid"),
    }
    LABELS["analytics_scope"] = {
        "shop": _("My shop"),
        "leader": _("My pickup points"),
        "creator": _("My notes"),
        "circle": _("My circle"),
    }
