"""The one pricing function, in a fixed order:

    SKU retail price → channel price (group, bargain or member price) → coupon →
    points deduction → shipping → payable

Discounts are spread over the lines they apply to with largest-remainder rounding, and
the breakdown is kept per line, so refunds and commissions use what was really paid.
No line ever pays less than nothing, and the lines always add up to payable − shipping.

* **Channel price**: the channel fills each line's unit price. The normal checkout asks
  ``pricing_hooks.member_terms`` once per order (an active paid member pays the SKU's
  ``member_price``; a member level may take a share off the retail price, never below
  the supply price) and takes the lowest; group and bargain channels set their campaign price.
* **Coupon** (one per order, ``pricing_hooks.coupon``): the hook checks owner, status,
  validity, scope and threshold (on the eligible lines' channel amounts) and says what
  it takes off; the discount is spread over the eligible lines only.
* **Points** (``pricing_hooks.points``): worth ``points.yuan_per_100_points`` fen each,
  at most ``points.max_deduct_share_bp`` of the goods left after the coupon; spread
  over all lines.
* Unless ``points.allow_free_orders`` is on, coupon and points together always leave at
  least 1 fen of goods to pay (a coupon larger than that is cut down; asking for more
  points than that is refused).
* **Shipping**: ``shipping.fee`` unless the goods reach ``shipping.free_above``, the
  channel ships free, the user's plan ships free (the same ``MemberTerms``), or
  the order needs no address.

Which channels accept coupons and points is the channel's decision (``PlaceContext``):

    normal checkout          coupons yes   points yes
    group buying, bargains   per campaign (``accepts_coupon`` / ``accepts_points``),
                             both off by default
    membership plans         no            no     (and no commission)
    lottery prizes           no            no

The pricing hooks never write: the coupon is marked used and the points are debited by
the marketing observer's ``on_priced``, in the placement transaction, so pricing can
also run for a checkout preview.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quanzi.core.errors import Invalid
from quanzi.core.money import split_largest_remainder
from quanzi.core.settings_schema import Settings
from quanzi.orders.channels import PlaceContext
from quanzi.orders.hooks import pricing_hooks


@dataclass
class PricedLine:
    retail_total: int
    channel_total: int
    coupon: int = 0
    points: int = 0

    @property
    def paid(self) -> int:
        return self.channel_total - self.coupon - self.points

    def breakdown(self) -> dict[str, int]:
        return {
            "retail": self.retail_total,
            "channel": self.channel_total,
            "coupon": self.coupon,
            "points": self.points,
            "paid": self.paid,
        }


@dataclass
class PricedOrder:
    lines: list[PricedLine]
    coupon_id: int | None = None
    points_used: int = 0
    shipping: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.retail_total for line in self.lines)

    @property
    def goods_paid(self) -> int:
        return sum(line.paid for line in self.lines)

    @property
    def discount(self) -> int:
        return self.total - self.goods_paid

    @property
    def channel_saving(self) -> int:
        """What the channel price (member, group, bargain) saves on the retail price."""
        return sum(line.retail_total - line.channel_total for line in self.lines)

    @property
    def coupon_points(self) -> int:
        return sum(line.coupon + line.points for line in self.lines)

    @property
    def payable(self) -> int:
        return self.goods_paid + self.shipping


def _spread(priced: list[PricedLine], amount: int, eligible: list[int], attr: str) -> None:
    weights = [priced[i].paid for i in eligible]
    for index, part in zip(eligible, split_largest_remainder(amount, weights), strict=True):
        setattr(priced[index], attr, getattr(priced[index], attr) + part)


def price_order(
    ctx: PlaceContext, *, settings: Settings, coupon_id: int | None, points: int
) -> PricedOrder:
    """Price the lines of ``ctx`` (their channel unit prices already set)."""
    priced = [
        PricedLine(retail_total=line.sku.price * line.qty, channel_total=line.unit_price * line.qty)
        for line in ctx.lines
    ]
    result = PricedOrder(lines=priced)

    if coupon_id is not None:
        if not ctx.accepts_coupon:
            raise Invalid("coupon_not_allowed", "coupons cannot be used on this kind of order")
        if pricing_hooks.coupon is None:
            raise Invalid("coupon_invalid", "coupons are not available")
        application = pricing_hooks.coupon(
            ctx.user,
            coupon_id,
            [(line.sku, line.qty, p.paid) for line, p in zip(ctx.lines, priced, strict=True)],
        )
        eligible = sorted(set(application.eligible))
        eligible_total = sum(priced[i].paid for i in eligible)
        discount = max(0, min(application.discount, eligible_total))
        if not settings.points.allow_free_orders:
            discount = min(discount, max(0, sum(p.paid for p in priced) - 1))
        _spread(priced, discount, eligible, "coupon")
        result.coupon_id = application.coupon_id

    if points:
        if points < 0:
            raise Invalid("invalid_points", "points must be a positive number")
        if not ctx.accepts_points:
            raise Invalid("points_not_allowed", "points cannot be used on this kind of order")
        if pricing_hooks.points is None:
            raise Invalid("points_unavailable", "points are not available")
        goods = sum(p.paid for p in priced)
        deduction = pricing_hooks.points(ctx.user, points, goods, settings)
        if deduction > goods:
            raise Invalid("invalid_points", "points cannot deduct more than the goods cost")
        _spread(priced, deduction, list(range(len(priced))), "points")
        result.points_used = points

    goods = sum(p.paid for p in priced)
    free = ctx.free_shipping or ctx.member_terms().free_shipping
    if ctx.needs_address and not free:
        fee = settings.shipping.fee
        if settings.shipping.free_above and goods >= settings.shipping.free_above:
            fee = 0
        result.shipping = fee
    return result
