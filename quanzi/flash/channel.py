"""The ``"flash"`` selling channel: registered from ``FlashConfig.ready()``; every hook
runs inside the transaction of the order change that calls it."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import F

from quanzi.catalog.services import stock_release
from quanzi.core.errors import Conflict, Invalid
from quanzi.core.sql import counter_add_capped, insert_many
from quanzi.flash import buckets, gate
from quanzi.flash.models import FlashItem, FlashOrder, FlashQuota, FlashSale
from quanzi.orders.channels import Channel, PlaceContext
from quanzi.orders.models import Order

NAME = "flash"


def limit_error(limit: int, held: int | None = None) -> Conflict:
    return Conflict(
        "limit_exceeded",
        "you have reached the purchase limit of this flash sale",
        {"limit": limit, "held": held},
    )


class FlashChannel(Channel):
    """Orders of a flash sale's item, placed by ``services.flash_buy`` (``extra``:
    ``_item`` with its sale, ``_ticket`` the gate's ticket or None)."""

    name = NAME
    # The allotment left the shelf when the sale was created; orders take from buckets.
    reserves_sku_stock = False

    def price(self, ctx: PlaceContext) -> None:
        item: FlashItem | None = ctx.extra.get("_item")
        if item is None or len(ctx.lines) != 1 or ctx.lines[0].sku.pk != item.sku_id:
            raise Invalid("invalid_flash_order", "a flash order buys one item of its sale")
        ctx.lines[0].unit_price = item.price
        ctx.channel_ref = str(item.sale_id)
        ctx.commission_enabled = False
        ctx.accepts_coupon = False
        ctx.accepts_points = False

    def reserve(self, ctx: PlaceContext, order: Order) -> None:
        item: FlashItem = ctx.extra["_item"]
        sale: FlashSale = item.sale
        qty = ctx.lines[0].qty
        takes = buckets.take(item=item, user_id=ctx.user.pk, qty=qty, buckets=sale.buckets)
        added = counter_add_capped(
            FlashQuota,
            keys={"item": item.pk, "user": ctx.user.pk},
            field="units",
            amount=qty,
            cap=sale.per_user_limit or None,
        )
        if not added:
            raise limit_error(sale.per_user_limit)
        ticket = ctx.extra.get("_ticket")
        fo = FlashOrder(
            order=order,
            item=item,
            user_id=ctx.user.pk,
            qty=qty,
            takes=takes,
            ticket=ticket.id if ticket is not None else "",
        )
        insert_many([fo])  # one INSERT with no RETURNING: nothing reads the row's id here

    def on_cancelled(self, order: Order) -> None:
        fo = FlashOrder.objects.select_for_update().filter(order_id=order.pk).first()
        if fo is None or fo.returned:
            return
        item = FlashItem.objects.get(pk=fo.item_id)
        # Lock order: the order (held by the caller), the sale, then its buckets.
        sale = FlashSale.objects.select_for_update().get(pk=item.sale_id)
        if sale.closed_at is None:
            buckets.give_back(item_id=item.pk, takes=fo.takes)
            if gate.enabled():
                args = {"item_id": item.pk, "user_id": fo.user_id, "qty": fo.qty}
                transaction.on_commit(lambda: _gate_give_back(**args))
        else:  # the sale is over: the units go back on the shelf
            FlashItem.objects.filter(pk=item.pk).update(returned=F("returned") + fo.qty)
            stock_release(sku_id=item.sku_id, qty=fo.qty)
        FlashQuota.objects.filter(item_id=item.pk, user_id=fo.user_id).update(
            units=F("units") - fo.qty
        )
        FlashOrder.objects.filter(pk=fo.pk).update(returned=True)

    def sku_units_held(self) -> dict[int, int]:
        held: dict[int, int] = defaultdict(int)
        for sku_id, allotment, returned in FlashItem.objects.values_list(
            "sku_id", "allotment", "returned"
        ):
            held[sku_id] += allotment - returned
        return dict(held)


def _gate_give_back(**args) -> None:
    try:
        gate.give_back(**args)
    except Exception:  # noqa: BLE001 - Redis away: the reconciler resyncs the gate
        from quanzi.core.logging import get_logger

        get_logger("quanzi.flash").exception("flash gate give-back failed", extra=args)
