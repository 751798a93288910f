"""How coupons and points follow every order (registered from ``MarketingConfig.ready``).

* placed: the coupon is marked used and the points are debited, in the placement
  transaction (a coupon used twice at once, or points spent twice, fails one order);
* cancelled: the coupon and the points come back;
* refunded: the points spent come back in proportion to what was refunded; the points
  the order earned are clawed back in the same proportion; the coupon comes back when
  the order is refunded in full before it shipped (a failed group, a change of mind);
* completed: the order earns points (not membership fees: paying for a plan rewards
  no one);
* settled: the money the coupon and the points took off the lines the customer kept is
  booked as marketing subsidy, so the settlement balances as
  customer money kept + subsidy = supplier cost + commissions + platform revenue.
"""

from __future__ import annotations

from collections.abc import Sequence

from quanzi.core.money import BP
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg
from quanzi.marketing import points as pts
from quanzi.marketing.services import coupon_return, coupon_use
from quanzi.orders.channels import OrderObserver

COUPON_SUBSIDY = f"{chart.MARKETING_SUBSIDY}:coupon"
POINTS_SUBSIDY = f"{chart.MARKETING_SUBSIDY}:points"
# Selling channels whose orders earn no points (a membership fee is no purchase of goods).
NO_EARN_CHANNELS = frozenset({"membership"})


def kept_share(amount: int, *, qty: int, kept_qty: int) -> int:
    """The part of a line's ``amount`` that belongs to the ``kept_qty`` units not refunded
    (the last units kept carry the rounding, as refunds do)."""
    if kept_qty >= qty:
        return amount
    if kept_qty <= 0:
        return 0
    return amount * kept_qty // qty


def subsidies(lines, kept_qty: dict[int, int]) -> tuple[int, int]:
    """(coupon, points) money to book for the kept units of ``lines``."""
    coupon = points = 0
    for line in lines:
        kept = kept_qty.get(line.pk, line.qty)
        coupon += kept_share(line.coupon_discount, qty=line.qty, kept_qty=kept)
        points += kept_share(line.points_discount, qty=line.qty, kept_qty=kept)
    return coupon, points


class MarketingObserver(OrderObserver):
    def on_priced(self, ctx, order) -> None:
        coupon_use(order=order)
        pts.order_points_spend(order=order)

    def on_cancelled(self, order) -> None:
        coupon_return(order=order)
        pts.order_points_return(order=order)

    def on_refund_succeeded(self, order, refund) -> None:
        pts.order_points_return(order=order, refund=refund)
        pts.order_points_clawback(order=order, refund=refund)
        if order.status == "refunded" and order.shipped_at is None:
            coupon_return(order=order)

    def on_completed(self, order) -> None:
        if order.channel in NO_EARN_CHANNELS:
            return
        from quanzi.membership.selectors import points_multiplier_bp

        multiplier = points_multiplier_bp(user_id=order.user_id) or BP
        pts.order_points_earn(order=order, multiplier_bp=multiplier)

    def settlement_legs(self, order, net_lines: Sequence[dict[str, int]]) -> list[Leg]:
        lines = [line for line in order.lines.all() if line.coupon_discount or line.points_discount]
        if not lines:
            return []
        kept = {net["line_id"]: net["qty"] for net in net_lines}
        coupon, points = subsidies(lines, kept)
        legs = []
        if coupon:
            legs.append(Leg(COUPON_SUBSIDY, coupon))
        if points:
            legs.append(Leg(POINTS_SUBSIDY, points))
        return legs
