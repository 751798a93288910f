"""Reads of the supplier portal: lines to ship, parcels, tracking, quality figures."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from quanzi.catalog.models import Supplier
from quanzi.orders.models import Order, OrderLine, Refund
from quanzi.orders.models import Status as S
from quanzi.orders.numbers import order_number
from quanzi.supply.carriers import CARRIERS
from quanzi.supply.models import Shipment, ShipmentLine
from quanzi.supply.services.suppliers import ship_by

SHIPPED_OR_LATER = (S.SHIPPED, S.DELIVERED, S.COMPLETED)


def carrier_name(code: str) -> str:
    found = CARRIERS.get(code)
    return str(found.name) if found else code


def lines_to_ship(*, supplier_id: int, limit: int = 200) -> list[dict]:
    """The supplier's lines of orders waiting to ship, not in a parcel yet, oldest first
    (with the address to drop-ship to and the ship-by deadline)."""
    shipped = ShipmentLine.objects.filter(line__supplier_id=supplier_id).values("line_id")
    lines = list(
        OrderLine.objects.filter(supplier_id=supplier_id, order__status=S.TO_SHIP)
        .exclude(pk__in=shipped)
        .select_related("order")
        .order_by("order__paid_at", "id")[:limit]
    )
    now = timezone.now()
    out = []
    for line in lines:
        if line.qty <= line.refunded_qty:
            continue
        deadline = ship_by(line.order.paid_at)
        out.append(
            {
                "line_id": line.pk,
                "order_id": line.order_id,
                "order_no": order_number(order_id=line.order_id, created_at=line.order.created_at),
                "title": line.title,
                "sku_name": line.sku_name,
                "qty": line.qty - line.refunded_qty,
                "supply_price": line.supply_price,
                "paid_at": line.order.paid_at,
                "ship_by": deadline,
                "overdue": bool(deadline and now > deadline),
                "address": line.order.address,
            }
        )
    return out


def shipments_of(*, supplier_id: int, limit: int = 100) -> list[dict]:
    parcels = list(
        Shipment.objects.filter(supplier_id=supplier_id)
        .select_related("order")
        .prefetch_related("lines")
        .order_by("-id")[:limit]
    )
    return [shipment_out(p, events=False) for p in parcels]


def shipment_out(parcel: Shipment, *, events: bool = True) -> dict:
    out = {
        "id": parcel.pk,
        "order_id": parcel.order_id,
        "order_no": order_number(order_id=parcel.order_id, created_at=parcel.order.created_at),
        "carrier": parcel.carrier,
        "carrier_name": carrier_name(parcel.carrier),
        "tracking_no": parcel.tracking_no,
        "status": parcel.status,
        "status_at": parcel.status_at,
        "late": parcel.late,
        "created_at": parcel.created_at,
        "line_ids": [sl.line_id for sl in parcel.lines.all()],
    }
    if events:
        out["events"] = [
            {"time": e.time, "status": e.status, "location": e.location, "text": e.text}
            for e in sorted(parcel.events.all(), key=lambda e: e.time, reverse=True)
        ]
    return out


def order_tracking(order: Order) -> dict:
    """The order's parcels and their events, for its API answer and its page; an order
    that never shipped a parcel says nothing (and costs no query)."""
    if order.paid_at is None or order.status in (S.PENDING_PAYMENT, S.CANCELLED, S.PAID):
        return {}
    parcels = list(
        Shipment.objects.filter(order_id=order.pk)
        .select_related("order")
        .prefetch_related("events", "lines")
        .order_by("id")
    )
    if not parcels:
        return {}
    shipments = [shipment_out(p) for p in parcels]
    statuses = {p.status for p in parcels}
    status = statuses.pop() if len(statuses) == 1 else "partial"
    return {"tracking": {"status": status, "shipments": shipments}}


def quality(*, supplier_id: int) -> dict:
    """The supplier's quality figures over all its paid lines (rates in basis points).

    * late shipments: parcels shipped after their ship-by deadline, plus lines still
      waiting past it (overdue);
    * refund rate: units refunded / units sold;
    * complaint rate: orders with a customer's refund request (whatever its outcome)
      about the supplier's lines / orders;
    * rating: average review rating of its products (when reviews exist).
    """
    paid_lines = OrderLine.objects.filter(supplier_id=supplier_id, order__paid_at__isnull=False)
    totals = paid_lines.aggregate(units=Sum("qty"), refunded=Sum("refunded_qty"))
    units, refunded = totals["units"] or 0, totals["refunded"] or 0
    mine = dict(paid_lines.values_list("id", "order_id"))
    order_ids = set(mine.values())
    complained = set()
    for order_id, lines in Refund.objects.filter(
        order_id__in=order_ids, kind="customer"
    ).values_list("order_id", "lines"):
        # A request about the whole order, or naming one of the supplier's lines.
        named = {row.get("line_id") for row in lines or [] if isinstance(row, dict)}
        if not named or named & mine.keys():
            complained.add(order_id)
    parcels = Shipment.objects.filter(supplier_id=supplier_id).aggregate(
        n=Count("id"), late=Count("id", filter=Q(late=True))
    )
    overdue = sum(
        1 for line in lines_to_ship(supplier_id=supplier_id, limit=10_000) if line["overdue"]
    )
    rating = None
    reviews = 0
    if apps.is_installed("quanzi.content"):
        from quanzi.content.models import Review

        agg = Review.objects.filter(
            product__supplier_id=supplier_id, visibility="visible"
        ).aggregate(avg=Avg("rating"), n=Count("id"))
        reviews = agg["n"] or 0
        rating = round(float(agg["avg"]), 2) if agg["avg"] is not None else None

    def bp(part: int, whole: int) -> int:
        return part * 10_000 // whole if whole else 0

    return {
        "supplier_id": supplier_id,
        "units_sold": units,
        "units_refunded": refunded,
        "refund_rate_bp": bp(refunded, units),
        "orders": len(order_ids),
        "orders_complained": len(complained),
        "complaint_rate_bp": bp(len(complained), len(order_ids)),
        "shipments": parcels["n"] or 0,
        "late_shipments": parcels["late"] or 0,
        "overdue_lines": overdue,
        "late_rate_bp": bp((parcels["late"] or 0) + overdue, (parcels["n"] or 0) + overdue),
        "reviews": reviews,
        "rating": rating,
    }


def quality_all() -> list[dict]:
    """Every supplier's figures, for the operator."""
    out = []
    for supplier in Supplier.objects.order_by("id"):
        figures = quality(supplier_id=supplier.pk)
        figures["name"] = supplier.name
        out.append(figures)
    return out
