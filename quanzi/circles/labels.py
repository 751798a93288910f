"""Words for the circle codes shown on pages (added to ``quanzi.core.labels`` at load)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def register() -> None:
    from quanzi.core.labels import LABELS

    LABELS.setdefault(
        "circle_policy",
        {
            "open": pgettext_lazy("circle", "Anyone may join"),
            "invite": pgettext_lazy("circle", "By invitation"),
            "approval": pgettext_lazy("circle", "Owner approves"),
        },
    )
    LABELS.setdefault(
        "circle_status",
        {
            "active": pgettext_lazy("circle", "Active"),
            "suspended": pgettext_lazy("circle", "Suspended"),
        },
    )
    LABELS.setdefault(
        "circle_member_status",
        {
            "member": pgettext_lazy("circle", "Member"),
            "pending": pgettext_lazy("circle", "Awaiting approval"),
            "left": pgettext_lazy("circle", "Left"),
            "removed": pgettext_lazy("circle", "Removed"),
            "rejected": _("Rejected"),
        },
    )
    LABELS.setdefault(
        "circle_role",
        {
            "owner": pgettext_lazy("circle", "Owner"),
            "admin": pgettext_lazy("circle", "Admin"),
            "member": pgettext_lazy("circle", "Member"),
        },
    )
    LABELS.setdefault(
        "circle_deal",
        {"group": _("Group buy"), "bargain": _("Bargain"), "coupon": _("Coupon")},
    )
    LABELS.setdefault(
        "owner_status",
        {"pending": _("Awaiting review"), "approved": _("Approved"), "rejected": _("Rejected")},
    )
