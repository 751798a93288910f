"""Membership invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Sum

from quanzi.ledger.checks import invariant
from quanzi.membership.models import GrowthEntry, MemberProfile

CHANNEL = "membership"


@invariant("membership: growth equals its entries")
def _growth_matches() -> Iterator[str]:
    sums = dict(
        GrowthEntry.objects.values_list("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    for profile in MemberProfile.objects.all().iterator():
        total = sums.pop(profile.user_id, 0) or 0
        if profile.growth != total:
            yield f"user {profile.user_id}: growth {profile.growth}, entries sum to {total}"
    for user_id, total in sums.items():
        if total:
            yield f"user {user_id}: growth entries sum to {total} without a profile"
    negative = (
        GrowthEntry.objects.values_list("order_id")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
        .values_list("order_id", flat=True)
    )
    for order_id in negative[:20]:
        yield f"order {order_id} reversed more growth than it recorded"


@invariant("membership: plan fees pay no commission or reward")
def _fees_reward_no_one() -> Iterator[str]:
    from quanzi.ledger.models import Posting
    from quanzi.orders.models import Order

    plan_orders = Order.objects.filter(channel=CHANNEL)
    for order_id in plan_orders.filter(commission_enabled=True).values_list("id", flat=True)[:20]:
        yield f"membership order {order_id} has commission enabled"
    ids = list(plan_orders.values_list("id", flat=True))
    if not ids:
        return
    allowed = ("customer_funds", "platform_revenue", "gateway:", "refunds_offline")
    for order_id, code in (
        Posting.objects.filter(entry__order_id__in=ids)
        .values_list("entry__order_id", "account__code")
        .distinct()
    ):
        if not code.startswith(allowed) and not code.startswith("supplier_payable:"):
            yield f"membership order {order_id} moved money to {code}"
    for order_id in GrowthEntry.objects.filter(order_id__in=ids).values_list("order_id", flat=True)[
        :20
    ]:
        yield f"membership order {order_id} counted as growth"
