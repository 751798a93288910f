"""Shipping order lines: a supplier's parcel, and the order moving to ``shipped``.

A supplier ships its own lines of an order, one parcel (carrier + tracking number) at a
time. The trunk ships orders whole, so the order itself moves to ``shipped`` (through
``orders.services.order_ship``, with the channel's ``may_ship`` and every observer) when
the last of its lines that still holds units is in a parcel, whoever shipped the others.
An order the operator ships whole gets a parcel for the lines not shipped yet
(``observer.ShipmentFollower``), so every shipped order can be tracked.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from quanzi.core.errors import Conflict, InvalidTransition, NotFound
from quanzi.core.logging import get_logger
from quanzi.orders.channels import channel_for
from quanzi.orders.models import Order, OrderLine
from quanzi.orders.models import Status as S
from quanzi.orders.services import order_ship
from quanzi.supply.carriers import tracking_check
from quanzi.supply.models import Shipment, ShipmentLine
from quanzi.supply.services.suppliers import ship_by

log = get_logger("quanzi.supply")


def _line_not_found() -> NotFound:
    # Another supplier's line looks exactly like a missing one.
    return NotFound("line_not_found", "no such order line")


def parcel_ship(
    *,
    supplier,
    carrier: str,
    tracking_no: str,
    actor,
    line_ids: list[int] | None = None,
    order_id: int | None = None,
) -> Shipment:
    """Ship ``line_ids`` (all of one order), or every unshipped line of ``supplier`` in
    ``order_id``, as one parcel. Lock order: the order, then its lines."""
    carrier, number = tracking_check(carrier=carrier, tracking_no=tracking_no)
    if order_id is None:
        first = OrderLine.objects.filter(pk__in=line_ids or [], supplier_id=supplier.pk).first()
        if first is None:
            raise _line_not_found()
        order_id = first.order_id
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise _line_not_found()
        lines = list(OrderLine.objects.select_for_update().filter(order_id=order.pk).order_by("id"))
        mine = [line for line in lines if line.supplier_id == supplier.pk]
        if line_ids is not None:
            wanted = set(line_ids)
            chosen = [line for line in mine if line.pk in wanted]
            if len(chosen) != len(wanted):
                raise _line_not_found()
        else:
            chosen = mine
            if not chosen:
                raise _line_not_found()
        if order.status != S.TO_SHIP or not channel_for(order.channel).may_ship(order):
            raise InvalidTransition(
                "not_shippable",
                f"an order that is {order.status} cannot be shipped",
                {"order_id": order.pk, "status": order.status},
            )
        shipped = set(
            ShipmentLine.objects.filter(line__order_id=order.pk).values_list("line_id", flat=True)
        )
        if line_ids is None:
            chosen = [line for line in chosen if line.pk not in shipped]
            chosen = [line for line in chosen if line.qty > line.refunded_qty]
            if not chosen:
                raise Conflict("already_shipped", "every line of yours in this order has shipped")
        for line in chosen:
            if line.pk in shipped:
                raise Conflict("already_shipped", "this line has shipped", {"line_id": line.pk})
            if line.qty <= line.refunded_qty:
                raise Conflict("line_refunded", "this line was refunded", {"line_id": line.pk})
        now = timezone.now()
        deadline = ship_by(order.paid_at)
        parcel, _ = Shipment.objects.get_or_create(
            order=order,
            carrier=carrier,
            tracking_no=number,
            defaults={
                "supplier": supplier,
                "ship_by": deadline,
                "late": bool(deadline and now > deadline),
                "shipped_by_id": getattr(actor, "pk", None),
            },
        )
        if parcel.supplier_id not in (None, supplier.pk):
            raise Conflict("tracking_no_taken", "this tracking number is another supplier's")
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(shipment=parcel, line=line, qty=line.qty - line.refunded_qty)
                for line in chosen
            ]
        )
        shipped |= {line.pk for line in chosen}
        waiting = [
            line for line in lines if line.qty > line.refunded_qty and line.pk not in shipped
        ]
        if not waiting:
            order_ship(order_id=order.pk, carrier=carrier, tracking_no=number, actor=actor)
        log.info(
            "parcel shipped",
            extra={
                "order_id": order.pk,
                "shipment_id": parcel.pk,
                "supplier_id": supplier.pk,
                "line_ids": [line.pk for line in chosen],
                "order_shipped": not waiting,
            },
        )
        shipment_id = parcel.pk
        transaction.on_commit(lambda: _subscribe_quietly(shipment_id))
    return parcel


def parcel_for_operator_shipment(order: Order) -> None:
    """The operator shipped ``order`` whole: its lines not in a parcel yet go in one
    under the order's carrier and number (in the shipping transaction)."""
    from quanzi.supply.carriers import CARRIERS

    shipped = set(
        ShipmentLine.objects.filter(line__order_id=order.pk).values_list("line_id", flat=True)
    )
    waiting = [
        line
        for line in OrderLine.objects.filter(order_id=order.pk).order_by("id")
        if line.qty > line.refunded_qty and line.pk not in shipped
    ]
    if not waiting:
        return
    code = (order.carrier or "").strip().upper()
    carrier = code if code in CARRIERS else (order.carrier or "").strip()[:20]
    deadline = ship_by(order.paid_at)
    parcel, _ = Shipment.objects.get_or_create(
        order=order,
        carrier=carrier,
        tracking_no=(order.tracking_no or "").strip()[:40],
        defaults={
            "ship_by": deadline,
            "late": bool(deadline and timezone.now() > deadline),
        },
    )
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=parcel, line=line, qty=line.qty - line.refunded_qty)
            for line in waiting
        ]
    )
    if carrier in CARRIERS:
        shipment_id = parcel.pk
        transaction.on_commit(lambda: _subscribe_quietly(shipment_id))


def _subscribe_quietly(shipment_id: int) -> None:
    from quanzi.supply.services.tracking import shipment_subscribe

    try:
        shipment_subscribe(shipment_id=shipment_id)
    except Exception:  # the tracking sweep subscribes it later
        log.exception("subscription failed; the sweep retries", extra={"shipment_id": shipment_id})
