"""The "bargain" selling channel: the owner buys the bargain's SKU at its current price.

Registered from ``BargainConfig.ready()``. ``price`` locks the bargain row and re-checks
it, so a price is never read and written back without a lock; ``reserve`` takes one
unit of the campaign's allotment (conditional UPDATE) besides the SKU stock the core
reserves. Paying marks the bargain ``bought``; cancelling gives the unit back and
reopens the bargain (or lets it expire, if its time is over).
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from quanzi.bargain.models import Bargain, BargainCampaign, BuyMode
from quanzi.bargain.models import BargainStatus as B
from quanzi.catalog.services import OutOfStock
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext


def bargain_lock(bargain_id: int) -> Bargain:
    bargain = (
        Bargain.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(pk=bargain_id)
        .first()
    )
    if bargain is None:
        raise NotFound("bargain_not_found", "no such bargain")
    return bargain


def bargain_check_buyable(bargain: Bargain, *, now=None) -> None:
    """Raise unless the (locked) bargain may be bought now, at its current price."""
    now = now or timezone.now()
    if bargain.status == B.ORDERED:
        raise Conflict(
            "bargain_ordered",
            "this bargain already has an order waiting for payment",
            {"order_id": bargain.order_id},
        )
    if bargain.status not in (B.OPEN, B.FLOOR_REACHED) or bargain.expires_at <= now:
        raise Conflict("bargain_closed", "this bargain is closed", {"status": bargain.status})
    if (
        bargain.campaign.buy_mode == BuyMode.FLOOR_ONLY
        and bargain.current_price > bargain.floor_price
    ):
        raise Conflict(
            "floor_not_reached",
            "this bargain can only be bought once friends have cut it to the floor price",
            {"current_price": bargain.current_price, "floor_price": bargain.floor_price},
        )


def _reopen_status(bargain: Bargain) -> str:
    return B.FLOOR_REACHED if bargain.current_price == bargain.floor_price else B.OPEN


class BargainChannel(Channel):
    name = "bargain"
    reserves_sku_stock = True

    def price(self, ctx: PlaceContext) -> None:
        bargain_id = ctx.extra.get("bargain_id")
        if not isinstance(bargain_id, int):
            raise Invalid("invalid_bargain_order", "a bargain order names its bargain")
        bargain = bargain_lock(bargain_id)
        if bargain.user_id != ctx.user.pk:
            raise NotFound("bargain_not_found", "no such bargain")
        bargain_check_buyable(bargain)
        lines = ctx.lines
        if len(lines) != 1 or lines[0].sku.pk != bargain.campaign.sku_id or lines[0].qty != 1:
            raise Invalid("invalid_bargain_order", "a bargain buys one unit of its own item")
        lines[0].unit_price = bargain.current_price
        ctx.channel_ref = str(bargain.pk)
        ctx.accepts_coupon = bargain.campaign.accepts_coupon
        ctx.accepts_points = bargain.campaign.accepts_points
        ctx.extra["_bargain"] = bargain

    def reserve(self, ctx: PlaceContext, order) -> None:
        bargain: Bargain = ctx.extra["_bargain"]
        taken = BargainCampaign.objects.filter(pk=bargain.campaign_id, stock__gte=1).update(
            stock=F("stock") - 1
        )
        if taken != 1:
            raise OutOfStock("out_of_stock", "this bargain campaign is sold out")
        bargain.status = B.ORDERED
        bargain.order_id = order.pk
        bargain.save(update_fields=["status", "order_id"])

    def after_paid(self, order) -> str:
        bargain = bargain_lock(int(order.channel_ref))
        if bargain.order_id == order.pk and bargain.status != B.BOUGHT:
            bargain.status = B.BOUGHT
            bargain.bought_at = timezone.now()
            bargain.save(update_fields=["status", "bought_at"])
        return "to_ship"

    def on_cancelled(self, order) -> None:
        bargain = bargain_lock(int(order.channel_ref))
        BargainCampaign.objects.filter(pk=bargain.campaign_id).update(stock=F("stock") + 1)
        if bargain.order_id != order.pk or bargain.status != B.ORDERED:
            return
        bargain.order_id = None
        now = timezone.now()
        if bargain.expires_at <= now:
            bargain.status, bargain.closed_at = B.EXPIRED, now
        else:
            bargain.status = _reopen_status(bargain)
        bargain.save(update_fields=["order_id", "status", "closed_at"])

    def on_refunded(self, order, refund) -> None:
        # The core puts refunded units back into SKU stock when it restocks; the
        # campaign's allotment gets them back the same way.
        if refund.restock:
            qty = sum(part["qty"] for part in refund.lines)
            if qty:
                campaign_id = (
                    Bargain.objects.filter(pk=int(order.channel_ref))
                    .values_list("campaign_id", flat=True)
                    .first()
                )
                BargainCampaign.objects.filter(pk=campaign_id).update(stock=F("stock") + qty)


class BargainSubsidy(OrderObserver):
    """At settlement, a bargain sold below its supply cost books the gap as marketing
    subsidy instead of silently shrinking platform revenue."""

    def settlement_legs(self, order, net_lines):
        from quanzi.ledger import accounts as chart
        from quanzi.ledger.services import Leg

        if order.channel != BargainChannel.name:
            return []
        gap = 0
        lines = {line.pk: line for line in order.lines.all()}
        for net in net_lines:
            line = lines[net["line_id"]]
            gap += max(0, (line.supply_price - line.unit_price) * net["qty"])
        return [Leg(chart.MARKETING_SUBSIDY, gap)] if gap else []
