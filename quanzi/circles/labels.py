"""Words for the circle codes shown on pages (added to ``quanzi.core.labels`` at load)."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from quanzi.core.labels import LABELS

    LABELS.setdefault(
        "circle_policy",
        {
            "open": _("Anyone may join"),
            "invite": _("By invitation"),
            "approval": _("Owner approves"),
        },
    )
    LABELS.setdefault("circle_status", {"active": _("Active"), "suspended": _("Suspended")})
    LABELS.setdefault(
        "circle_member_status",
        {
            "member": _("Member"),
            "pending": _("Awaiting approval"),
            "left": _("Left"),
            "removed": _("Removed"),
            "rejected": _("Rejected"),
        },
    )
    LABELS.setdefault(
        "circle_role", {"owner": _("Owner"), "admin": _("Admin"), "member": _("Member")}
    )
    LABELS.setdefault(
        "circle_deal",
        {"group": _("Group buy"), "bargain": _("Bargain"), "coupon": _("Coupon")},
    )
    LABELS.setdefault(
        "owner_status",
        {"pending": _("Awaiting review"), "approved": _("Approved"), "rejected": _("Rejected")},
    )
