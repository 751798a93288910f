"""Where the dashboard meets the feature apps (campaigns, coupons, plans, withdrawals)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def withdrawals_waiting() -> int | None:
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus

    return Withdrawal.objects.filter(status=WithdrawalStatus.REQUESTED).count()


def nav() -> list[tuple[str, str]]:
    """Menu entries of the feature pages: (path, label)."""
    return [
        ("/dashboard/groups/", str(_("Group deals"))),
        ("/dashboard/bargains/", str(_("Bargains"))),
        ("/dashboard/lotteries/", str(_("Lottery"))),
        ("/dashboard/rewards/", str(_("Invite and share rewards"))),
        ("/dashboard/coupons/", str(_("Coupons"))),
        ("/dashboard/plans/", str(_("Membership"))),
        ("/dashboard/withdrawals/", str(_("Withdrawals"))),
        ("/dashboard/community/", str(_("Community leaders"))),
        ("/dashboard/community/waves/", str(_("Community waves"))),
        ("/dashboard/content/", str(_("Content"))),
        ("/dashboard/circles/", str(pgettext_lazy("circle", "Circles"))),
        ("/dashboard/partners/", str(_("Partner channels"))),
        ("/dashboard/analytics/", str(_("Analytics"))),
        ("/dashboard/risk/", str(_("Risk reviews"))),
        ("/dashboard/supply/", str(_("Suppliers"))),
    ]
