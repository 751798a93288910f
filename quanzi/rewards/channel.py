"""The "lottery" channel (a won product shipped as a zero-price order) and the order
observer that feeds share / invite rewards (when an order settles) and books prize
costs as subsidy."""

from __future__ import annotations

from django.utils import timezone

from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext
from quanzi.rewards.models import DrawStatus, LotteryDraw, LotteryPrize
from quanzi.rewards.models import PrizeKind as K


class LotteryChannel(Channel):
    name = "lottery"
    # The prize's units were set aside from SKU stock when the lottery was created.
    reserves_sku_stock = False

    def price(self, ctx: PlaceContext) -> None:
        draw_id = ctx.extra.get("draw_id")
        draw = (
            LotteryDraw.objects.select_for_update(of=("self",))
            .select_related("prize")
            .filter(pk=draw_id)
            .first()
            if isinstance(draw_id, int)
            else None
        )
        if draw is None or draw.user_id != ctx.user.pk:
            raise NotFound("draw_not_found", "no such draw")
        if draw.kind != K.PRODUCT:
            raise Conflict("nothing_to_claim", "this draw did not win a product")
        if draw.status != DrawStatus.UNCLAIMED:
            raise Conflict(
                "already_claimed", "this prize has been claimed", {"order_id": draw.order_id}
            )
        lines = ctx.lines
        if len(lines) != 1 or lines[0].sku.pk != draw.prize.sku_id or lines[0].qty != 1:
            raise Invalid("invalid_prize_order", "a prize order ships one unit of the prize")
        lines[0].unit_price = 0
        ctx.channel_ref = str(draw.pk)
        ctx.commission_enabled = False
        ctx.accepts_coupon = False
        ctx.accepts_points = False
        ctx.free_shipping = True
        ctx.extra["_draw"] = draw

    def reserve(self, ctx: PlaceContext, order) -> None:
        draw: LotteryDraw = ctx.extra["_draw"]
        draw.status = DrawStatus.CLAIMED
        draw.order_id = order.pk
        draw.save(update_fields=["status", "order_id"])

    def on_cancelled(self, order) -> None:
        # A zero-price order is paid at once, so this only runs if that ever changes:
        # the prize goes back to waiting for its claim.
        LotteryDraw.objects.filter(pk=int(order.channel_ref), order_id=order.pk).update(
            status=DrawStatus.UNCLAIMED, order_id=None
        )

    def on_refunded(self, order, refund) -> None:
        """A prize refunded before it shipped comes back: to the prize's stock while the
        lottery runs (someone else can win it), to the SKU's shelf once it is closed."""
        if not refund.restock:
            return  # it shipped: like any shipped goods, it is not back on the shelf
        from quanzi.rewards.lottery import prize_unit_return

        draw = LotteryDraw.objects.filter(pk=int(order.channel_ref), order_id=order.pk).first()
        if draw is not None and draw.prize_id is not None:
            prize_unit_return(prize_id=draw.prize_id, qty=sum(p["qty"] for p in refund.lines))

    def sku_units_held(self) -> dict[int, int]:
        """Prize units set aside from SKU stock: still in the pool or with a winner."""
        from django.db.models import F, Sum

        rows = (
            LotteryPrize.objects.filter(kind=K.PRODUCT, sku__isnull=False)
            .values("sku_id")
            .annotate(units=Sum(F("stock") + F("given")))
        )
        return {row["sku_id"]: int(row["units"] or 0) for row in rows}


class RewardsObserver(OrderObserver):
    def on_settled_many(self, orders) -> None:
        """A friend's first order counts once it settles (never at completion: a refund
        inside the after-sales window must not leave a reward behind)."""
        from quanzi.rewards.invites import referrals_on_orders_settled

        referrals_on_orders_settled(orders=orders, now=timezone.now())

    def settlement_legs(self, order, net_lines):
        """A prize shipped for free costs its supply price: booked as marketing subsidy."""
        from quanzi.ledger import accounts as chart
        from quanzi.ledger.services import Leg

        if order.channel != LotteryChannel.name:
            return []
        lines = {line.pk: line for line in order.lines.all()}
        cost = sum(
            max(0, (lines[n["line_id"]].supply_price - lines[n["line_id"]].unit_price) * n["qty"])
            for n in net_lines
        )
        return [Leg(chart.MARKETING_SUBSIDY, cost)] if cost else []
