"""Reads: points nearest first, the current wave, sorting lists, routes, leader views."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.utils import timezone

from quanzi.community import clock
from quanzi.community.leaders import distance_m
from quanzi.community.models import (
    Arrival,
    CommunityOrder,
    CustomerPoint,
    Leader,
    LeaderApplication,
    LeaderStatus,
    PickupPoint,
    PointPause,
    PointStatus,
    PurchaseOrder,
    Wave,
    WaveItem,
)
from quanzi.orders.models import OrderLine
from quanzi.orders.models import Status as S


def leader_out(leader: Leader) -> dict[str, Any]:
    return {
        "id": leader.pk,
        "user_id": leader.user_id,
        "nickname": leader.user.nickname,
        "status": leader.status,
        "share_code": leader.share_code,
    }


def point_out(point: PickupPoint, *, distance: int | None = None) -> dict[str, Any]:
    return {
        "id": point.pk,
        "name": point.name,
        "address": point.address,
        "area": point.area,
        "lat": point.lat,
        "lng": point.lng,
        "hours": point.hours,
        "photo": point.photo,
        "capacity": point.capacity,
        "status": point.status,
        "distance_m": distance,
        "leader": {"id": point.leader_id, "nickname": point.leader.user.nickname},
    }


def points_usable():
    return PickupPoint.objects.select_related("leader__user").filter(
        status=PointStatus.ACTIVE, leader__status=LeaderStatus.ACTIVE
    )


def points_nearest(*, lat: float | None, lng: float | None, limit: int = 20) -> list[dict]:
    """Usable points, nearest first from (lat, lng); by id when no position is known."""
    points = list(points_usable().order_by("id"))
    if lat is None or lng is None:
        return [point_out(p) for p in points[:limit]]
    ranked = sorted((distance_m(lat, lng, p.lat, p.lng), p.pk, p) for p in points)
    return [point_out(p, distance=d) for d, _, p in ranked[:limit]]


def item_out(item: WaveItem) -> dict[str, Any]:
    sku = item.sku
    return {
        "sku_id": item.sku_id,
        "product_id": sku.product_id,
        "title": sku.product.title,
        "sku_name": sku.name,
        "cover": sku.product.cover,
        "retail_price": sku.price,
        "price": item.price,
        "per_user_limit": item.per_user_limit,
        "stock": item.stock,
        "remaining": item.remaining,
        "sold": item.sold,
    }


def wave_out(wave: Wave) -> dict[str, Any]:
    items = (
        WaveItem.objects.filter(wave=wave)
        .select_related("sku__product")
        .prefetch_related("sku__product__images")
        .order_by("id")
    )
    return {
        "id": wave.pk,
        "title": wave.title,
        "status": wave.status,
        "sale_date": wave.sale_date,
        "cutoff_at": wave.cutoff_at,
        "pickup_date": wave.pickup_date,
        "pickup_start": wave.pickup_start.strftime("%H:%M") if wave.pickup_start else None,
        "pickup_end": wave.pickup_end.strftime("%H:%M") if wave.pickup_end else None,
        "seconds_left": max(0, int((wave.cutoff_at - clock.now()).total_seconds())),
        "aggregated": wave.aggregated_at is not None,
        "items": [item_out(i) for i in items],
    }


def chosen_point(user) -> CustomerPoint | None:
    return (
        CustomerPoint.objects.select_related("point__leader__user", "bound_leader")
        .filter(user=user)
        .first()
    )


def application_out(app: LeaderApplication) -> dict[str, Any]:
    return {
        "id": app.pk,
        "user_id": app.user_id,
        "status": app.status,
        "point": app.point,
        "reason": app.reason,
        "leader_id": app.leader_id,
        "point_id": app.created_point_id,
        "created_at": app.created_at,
    }


def purchase_orders_out(wave: Wave) -> list[dict[str, Any]]:
    from quanzi.catalog.models import Supplier

    pos = list(
        PurchaseOrder.objects.filter(wave=wave).prefetch_related("lines").order_by("supplier_key")
    )
    names = dict(
        Supplier.objects.filter(pk__in=[p.supplier_id for p in pos if p.supplier_id]).values_list(
            "id", "name"
        )
    )
    return [
        {
            "id": po.pk,
            "supplier_id": po.supplier_id,
            "supplier_name": names.get(po.supplier_id, "") if po.supplier_id else "",
            "total_cost": po.total_cost,
            "lines": [
                {
                    "sku_id": line.sku_id,
                    "title": line.title,
                    "qty": line.qty,
                    "supply_price": line.supply_price,
                    "cost": line.cost,
                }
                for line in po.lines.order_by("sku_id")
            ],
        }
        for po in pos
    ]


LIVE = (S.TO_SHIP, S.PICKED_UP, S.COMPLETED, S.REFUNDING)


def sorting_lists(wave: Wave, *, point_id: int | None = None) -> list[dict[str, Any]]:
    """Per point (and its leader): units per SKU, and one bag per customer order with its
    pickup code. Built from the orders as they stand (refunded units are left out)."""
    cos = (
        CommunityOrder.objects.filter(wave=wave, order__status__in=LIVE)
        .select_related("point__leader__user", "user")
        .order_by("point_id", "order_id")
    )
    if point_id is not None:
        cos = cos.filter(point_id=point_id)
    cos = list(cos)
    lines_of: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=[c.order_id for c in cos]).order_by("id"):
        lines_of[line.order_id].append(line)
    points: dict[int, dict[str, Any]] = {}
    for co in cos:
        point = co.point
        entry = points.setdefault(
            point.pk,
            {
                "point_id": point.pk,
                "point_name": point.name,
                "address": point.address,
                "area": point.area,
                "leader": {"id": point.leader_id, "nickname": point.leader.user.nickname},
                "skus": {},
                "bags": [],
            },
        )
        bag = {
            "order_id": co.order_id,
            "customer": co.user.nickname or co.user.phone[-4:],
            "phone_tail": co.user.phone[-4:],
            "code": co.code,
            "picked_up": co.picked_up_at is not None,
            "lines": [],
        }
        for line in lines_of[co.order_id]:
            qty = line.qty - line.refunded_qty
            if qty <= 0:
                continue
            bag["lines"].append(
                {"sku_id": line.sku_id, "title": f"{line.title} {line.sku_name}", "qty": qty}
            )
            sku = entry["skus"].setdefault(
                line.sku_id,
                {"sku_id": line.sku_id, "title": f"{line.title} {line.sku_name}", "qty": 0},
            )
            sku["qty"] += qty
        if bag["lines"]:
            entry["bags"].append(bag)
    out = []
    for entry in points.values():
        entry["skus"] = sorted(entry["skus"].values(), key=lambda s: s["sku_id"])
        out.append(entry)
    return out


def routes(wave: Wave) -> list[dict[str, Any]]:
    """Delivery routes: the wave's points grouped by area."""
    by_area: dict[str, list] = defaultdict(list)
    for entry in sorting_lists(wave):
        by_area[entry["area"] or "-"].append(
            {
                "point_id": entry["point_id"],
                "point_name": entry["point_name"],
                "address": entry["address"],
                "bags": len(entry["bags"]),
            }
        )
    return [{"area": area, "points": pts} for area, pts in sorted(by_area.items())]


def leader_orders(*, leader: Leader, days: int = 2) -> list[dict[str, Any]]:
    """Orders at the leader's points picked up today and tomorrow, by wave and point."""
    today = timezone.localdate(clock.now())
    dates = [today + timedelta(days=n) for n in range(days)]
    waves = Wave.objects.filter(pickup_date__in=dates).order_by("pickup_date", "id")
    arrived = set(Arrival.objects.filter(point__leader=leader).values_list("point_id", "wave_id"))
    out = []
    for wave in waves:
        for entry in sorting_lists(wave):
            if entry["leader"]["id"] != leader.pk:
                continue
            entry["wave_id"] = wave.pk
            entry["pickup_date"] = wave.pickup_date
            entry["wave_closed"] = wave.status == "closed"
            entry["arrived"] = (entry["point_id"], wave.pk) in arrived
            out.append(entry)
    return out


def my_pickups(user) -> list[dict[str, Any]]:
    from quanzi.community.channel import pickup_out

    cos = (
        CommunityOrder.objects.filter(user=user, code_active=True, order__status=S.TO_SHIP)
        .select_related("wave")
        .order_by("-order_id")
    )
    arrived = set(
        Arrival.objects.filter(wave_id__in=[c.wave_id for c in cos]).values_list(
            "point_id", "wave_id"
        )
    )
    return [
        {**pickup_out(co), "order_id": co.order_id, "arrived": (co.point_id, co.wave_id) in arrived}
        for co in cos
    ]


def paused_dates(point: PickupPoint) -> list:
    return sorted(PointPause.objects.filter(point=point).values_list("date", flat=True))
