"""The ``"community"`` selling channel and the leader's commission.

Registered from ``CommunityConfig.ready()``; every hook runs inside the transaction of
the order change that calls it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db.models import F

from quanzi.catalog.services import OutOfStock
from quanzi.community import clock
from quanzi.community.leaders import point_is_paused, point_usable
from quanzi.community.models import (
    CommunityOrder,
    CommunitySettings,
    CustomerPoint,
    PickupPoint,
    Wave,
    WaveItem,
    WaveQuota,
    WaveStatus,
)
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.money import apply_bp
from quanzi.core.platform_settings import get_settings
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext
from quanzi.orders.models import Order, Refund
from quanzi.orders.models import Status as S

log = get_logger("quanzi.community")

NAME = "community"


def _wave_closed(wave: Wave) -> Conflict:
    from quanzi.community.waves import wave_current

    nxt = wave_current()
    return Conflict(
        "wave_closed",
        "ordering for this wave has closed",
        {
            "wave_id": wave.pk,
            "cutoff_at": wave.cutoff_at.isoformat(),
            "next_wave_id": nxt.pk if nxt is not None and nxt.pk != wave.pk else None,
        },
    )


def _limit_error(item: WaveItem, held: int) -> Conflict:
    return Conflict(
        "limit_exceeded",
        "you have reached the purchase limit of this item in this wave",
        {"sku_id": item.sku_id, "limit": item.per_user_limit, "held": held},
    )


def new_code(point_id: int) -> str:
    """Six digits, not held by another open order at the point."""
    for _ in range(20):
        code = f"{secrets.randbelow(1_000_000):06d}"
        if not CommunityOrder.objects.filter(
            point_id=point_id, code=code, code_active=True
        ).exists():
            return code
    raise Conflict("point_busy", "could not draw a free pickup code; try again")


def units_back(*, item_id: int, user_id: int, qty: int, reason: str) -> None:
    """``qty`` units of a wave item leave an order (cancelled, refunded): to the wave while
    it is open, to the SKU's shelf when an unpaid order dies after the cutoff, written off
    when a paid order is refunded after the cutoff (the goods were bought for it)."""
    from quanzi.catalog.services import stock_release

    # Only the item's row is locked (not the wave's: orders hold a key-share lock on it).
    item = WaveItem.objects.select_for_update(of=("self",)).select_related("wave").get(pk=item_id)
    if item.wave.status == WaveStatus.OPEN:
        WaveItem.objects.filter(pk=item.pk).update(
            remaining=F("remaining") + qty, sold=F("sold") - qty
        )
    elif reason == "cancelled":
        stock_release(sku_id=item.sku_id, qty=qty)
        WaveItem.objects.filter(pk=item.pk).update(
            returned=F("returned") + qty, sold=F("sold") - qty
        )
    else:
        WaveItem.objects.filter(pk=item.pk).update(
            written_off=F("written_off") + qty, sold=F("sold") - qty
        )
    WaveQuota.objects.filter(item_id=item.pk, user_id=user_id).update(units=F("units") - qty)


class CommunityChannel(Channel):
    """Orders for pickup at a point. ``extra``: ``wave_id`` and ``pickup_point_id``."""

    name = NAME
    # The wave's stock left the shelf when the wave was published; orders take from it.
    reserves_sku_stock = False
    public_checkout = True

    def price(self, ctx: PlaceContext) -> None:
        wave_id, point_id = ctx.extra.get("wave_id"), ctx.extra.get("pickup_point_id")
        if not isinstance(wave_id, int) or not isinstance(point_id, int):
            raise Invalid("invalid_community_order", "a community order names its wave and point")
        wave = Wave.objects.filter(pk=wave_id).first()
        if wave is None:
            raise NotFound("wave_not_found", "no such wave")
        if wave.status != WaveStatus.OPEN or clock.now() >= wave.cutoff_at:
            raise _wave_closed(wave)  # decided again under the reservation
        point = PickupPoint.objects.select_related("leader").filter(pk=point_id).first()
        if point is None:
            raise NotFound("point_not_found", "no such pickup point")
        if not point_usable(point):
            raise Conflict(
                "point_unavailable",
                "this pickup point is not taking orders",
                {"point_id": point.pk},
            )
        if point_is_paused(point, wave.pickup_date):
            raise Conflict(
                "point_paused",
                "the leader of this point is away on the pickup day; choose another point",
                {"point_id": point.pk, "date": wave.pickup_date.isoformat()},
            )
        items = {i.sku_id: i for i in WaveItem.objects.filter(wave=wave)}
        held = dict(
            WaveQuota.objects.filter(item__wave=wave, user_id=ctx.user.pk).values_list(
                "item__sku_id", "units"
            )
        )
        for line in ctx.lines:
            item = items.get(line.sku.pk)
            if item is None:
                raise Invalid(
                    "sku_not_in_wave", "this item is not sold in this wave", {"sku_id": line.sku.pk}
                )
            if item.per_user_limit and held.get(item.sku_id, 0) + line.qty > item.per_user_limit:
                raise _limit_error(item, held.get(item.sku_id, 0))  # fast; decided under lock
            line.unit_price = item.price
        ctx.channel_ref = str(wave.pk)
        ctx.commission_enabled = False  # the leader takes the first level (docs/community.md)
        ctx.accepts_coupon = False
        ctx.accepts_points = False
        ctx.free_shipping = True
        ctx.needs_address = False
        ctx.extra["_wave"], ctx.extra["_point"], ctx.extra["_items"] = wave, point, items

    def reserve(self, ctx: PlaceContext, order: Order) -> None:
        wave: Wave = ctx.extra["_wave"]
        point: PickupPoint = ctx.extra["_point"]
        items: dict[int, WaveItem] = ctx.extra["_items"]
        # The server's clock, read in the reservation's transaction, decides the cutoff.
        if clock.now() >= wave.cutoff_at:
            raise _wave_closed(wave)
        for line in sorted(ctx.lines, key=lambda ln: ln.sku.pk):
            item = items[line.sku.pk]
            # One conditional UPDATE on the item's own row (closing a wave zeroes its
            # ``remaining`` under the same row lock), so no interleaving oversells.
            taken = WaveItem.objects.filter(pk=item.pk, remaining__gte=line.qty).update(
                remaining=F("remaining") - line.qty, sold=F("sold") + line.qty
            )
            if taken != 1:
                if Wave.objects.filter(pk=wave.pk, status=WaveStatus.OPEN).exists():
                    raise OutOfStock(
                        "out_of_stock",
                        "this item is sold out in this wave",
                        {"sku_id": item.sku_id},
                    )
                raise _wave_closed(wave)
            if item.per_user_limit:
                WaveQuota.objects.bulk_create(
                    [WaveQuota(item=item, user_id=ctx.user.pk)], ignore_conflicts=True
                )
                ok = WaveQuota.objects.filter(
                    item=item, user_id=ctx.user.pk, units__lte=item.per_user_limit - line.qty
                ).update(units=F("units") + line.qty)
                if ok != 1:
                    held = (
                        WaveQuota.objects.filter(item=item, user_id=ctx.user.pk)
                        .values_list("units", flat=True)
                        .first()
                    )
                    raise _limit_error(item, held or 0)
            else:
                WaveQuota.objects.bulk_create(
                    [WaveQuota(item=item, user_id=ctx.user.pk)], ignore_conflicts=True
                )
                WaveQuota.objects.filter(item=item, user_id=ctx.user.pk).update(
                    units=F("units") + line.qty
                )
        chosen = CustomerPoint.objects.filter(user_id=ctx.user.pk).first()
        CommunityOrder.objects.create(
            order=order,
            wave=wave,
            point=point,
            leader=point.leader,
            user_id=ctx.user.pk,
            bound_leader_id=chosen.bound_leader_id if chosen else None,
            point_snapshot=point.snapshot(),
        )

    def after_paid(self, order: Order) -> str:
        co = CommunityOrder.objects.select_for_update().get(order_id=order.pk)
        if not co.code:
            co.code = new_code(co.point_id)
            co.code_active = True
            co.save(update_fields=["code", "code_active"])
        return S.TO_SHIP

    def _items_of(self, order: Order) -> dict[int, int]:
        wave_id = int(order.channel_ref)
        return dict(WaveItem.objects.filter(wave_id=wave_id).values_list("sku_id", "id"))

    def on_cancelled(self, order: Order) -> None:
        items = self._items_of(order)
        for line in order.lines.order_by("sku_id"):
            units_back(
                item_id=items[line.sku_id], user_id=order.user_id, qty=line.qty, reason="cancelled"
            )
        CommunityOrder.objects.filter(order_id=order.pk).update(code_active=False)

    def on_refunded(self, order: Order, refund: Refund) -> None:
        items = self._items_of(order)
        skus = dict(order.lines.values_list("id", "sku_id"))
        for part in sorted(refund.lines, key=lambda p: skus[p["line_id"]]):
            units_back(
                item_id=items[skus[part["line_id"]]],
                user_id=order.user_id,
                qty=part["qty"],
                reason="refunded",
            )
        if order.status == S.REFUNDED:
            CommunityOrder.objects.filter(order_id=order.pk).update(code_active=False)

    def may_ship(self, order: Order) -> bool:
        return False  # community goods travel to the point with the wave, never by carrier

    def sku_units_held(self) -> dict[int, int]:
        held: dict[int, int] = {}
        for sku_id, stock, returned in WaveItem.objects.values_list("sku_id", "stock", "returned"):
            held[sku_id] = held.get(sku_id, 0) + stock - returned
        return held

    def describe(self, order: Order) -> dict[str, Any]:
        co = CommunityOrder.objects.filter(order_id=order.pk).select_related("wave").first()
        if co is None:
            return {}
        return {"pickup": pickup_out(co)}


def pickup_out(co: CommunityOrder) -> dict[str, Any]:
    wave = co.wave
    return {
        "point_id": co.point_id,
        "wave_id": co.wave_id,
        "point": co.point_snapshot,
        "pickup_date": wave.pickup_date.isoformat(),
        "pickup_start": wave.pickup_start.strftime("%H:%M") if wave.pickup_start else None,
        "pickup_end": wave.pickup_end.strftime("%H:%M") if wave.pickup_end else None,
        "code": co.code or None,
        "picked_up_at": co.picked_up_at.isoformat() if co.picked_up_at else None,
    }


def _leader_upline(leader_user_id: int, buyer_id: int, distribution) -> int | None:
    """The leader's valid referrer, who may earn level 2: never the buyer, and only a
    qualified distributor (distribution's own rule for level 2)."""
    from quanzi.accounts.models import User
    from quanzi.accounts.services import referrer_is_valid
    from quanzi.distribution.distributors import distributor_is_qualified

    leader = User.objects.only("id", "referrer_id", "referrer_expires_at").get(pk=leader_user_id)
    if not referrer_is_valid(leader) or leader.referrer_id in (None, buyer_id, leader_user_id):
        return None
    if not distributor_is_qualified(user_id=leader.referrer_id, settings=distribution):
        return None
    return leader.referrer_id


class LeaderCommission(OrderObserver):
    """The point's leader earns a level-1 commission (source ``leader``) on community
    orders; distribution's observer settles, reverses and claws it back like any other."""

    def on_paid(self, order: Order) -> None:
        if order.channel != NAME:
            return
        from quanzi.distribution.models import Commission

        co = CommunityOrder.objects.select_related("leader").filter(order_id=order.pk).first()
        if co is None or co.leader.user_id == order.user_id:
            return  # a leader buying at its own point earns nothing on it
        if Commission.objects.filter(order_id=order.pk).exists():
            return  # the same payment seen twice
        community = CommunitySettings.current()
        distribution = get_settings().distribution
        upline = None
        if community.leader_upline_level2 and distribution.enabled and distribution.levels >= 2:
            upline = _leader_upline(co.leader.user_id, order.user_id, distribution)
        rates = dict(
            WaveItem.objects.filter(wave_id=co.wave_id).values_list("sku_id", "leader_rate_bp")
        )
        rows = []
        for line in order.lines.order_by("id"):
            rate = rates.get(line.sku_id)
            rate = community.leader_rate_bp if rate is None else rate
            shares = [(1, co.leader.user_id, "leader", rate, apply_bp(line.paid, rate))]
            if upline is not None:
                level2 = distribution.level2_rate_bp
                shares.append((2, upline, "referrer", level2, apply_bp(line.paid, level2)))
                cap = apply_bp(line.paid, max(distribution.max_commission_share_bp, rate))
                if sum(share[4] for share in shares) > cap:
                    # The leader keeps its rate; level 2 gets what the cap leaves.
                    shares[1] = (*shares[1][:4], max(0, cap - shares[0][4]))
            for level, beneficiary, source, rate_bp, amount in shares:
                if amount <= 0:
                    continue
                rows.append(
                    Commission(
                        order=order,
                        line=line,
                        level=level,
                        beneficiary_id=beneficiary,
                        buyer_id=order.user_id,
                        source=source,
                        base=line.paid,
                        qty=line.qty,
                        rate_bp=rate_bp,
                        amount=amount,
                        capped=level == 2 and amount < apply_bp(line.paid, rate_bp),
                    )
                )
        Commission.objects.bulk_create(rows)
        if rows:
            log.info(
                "leader commission frozen",
                extra={
                    "order_id": order.pk,
                    "leader_id": co.leader_id,
                    "commissions": [(r.level, r.beneficiary_id, r.amount) for r in rows],
                },
            )
