"""Tracking events: recorded once each, the parcel's status is its latest by time, and a
delivered (签收) parcel marks its order delivered once every parcel of it is delivered.

Events may arrive late, twice or out of order (a push and a poll of the same parcel, a
push repeated): an event is one row per parcel × time × status, and the parcel's status
is always recomputed from all its events, never from the last one received.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from quanzi.core.logging import get_logger
from quanzi.orders.models import Order
from quanzi.orders.models import Status as S
from quanzi.orders.services import order_mark_delivered
from quanzi.supply.carriers import CARRIERS
from quanzi.supply.models import Shipment, ShipmentStatus, TrackingEvent
from quanzi.supply.tracking import TrackEvent, TrackingError, TrackReport, get_provider

log = get_logger("quanzi.supply")

FINAL = {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED}
# Two events at the same second: the later stage wins.
RANK = {
    ShipmentStatus.CREATED: 0,
    ShipmentStatus.ACCEPTED: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.DELIVERING: 3,
    ShipmentStatus.PROBLEM: 4,
    ShipmentStatus.RETURNED: 5,
    ShipmentStatus.DELIVERED: 6,
}


def latest(events: Sequence[TrackingEvent]) -> TrackingEvent | None:
    return max(events, key=lambda e: (e.time, RANK.get(e.status, 0)), default=None)


def tracking_record(*, report: TrackReport) -> int:
    """Store the report's events on every parcel with its carrier and number; returns
    how many events were new. Idempotent: the same report twice adds nothing."""
    added = 0
    parcel_ids = list(
        Shipment.objects.filter(carrier=report.carrier, tracking_no=report.tracking_no)
        .order_by("id")
        .values_list("id", "order_id")
    )
    for shipment_id, order_id in parcel_ids:
        added += _record_one(shipment_id, order_id, report.events)
    return added


def _record_one(shipment_id: int, order_id: int, events: Sequence[TrackEvent]) -> int:
    with transaction.atomic():
        # Lock order: the order, then its parcel.
        Order.objects.select_for_update().filter(pk=order_id).first()
        parcel = Shipment.objects.select_for_update().get(pk=shipment_id)
        before = TrackingEvent.objects.filter(shipment=parcel).count()
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    shipment=parcel,
                    time=event.time,
                    status=event.status,
                    location=event.location[:100],
                    text=event.text[:300],
                )
                for event in events
            ],
            ignore_conflicts=True,  # the same event again: the first one stands
        )
        stored = list(TrackingEvent.objects.filter(shipment=parcel))
        added = len(stored) - before
        newest = latest(stored)
        if newest is not None and (newest.status, newest.time) != (parcel.status, parcel.status_at):
            parcel.status, parcel.status_at = newest.status, newest.time
            parcel.save(update_fields=["status", "status_at"])
        if parcel.status == ShipmentStatus.DELIVERED:
            _deliver_order_if_all_delivered(order_id)
    if added:
        log.info(
            "tracking events recorded",
            extra={"shipment_id": shipment_id, "order_id": order_id, "added": added},
        )
    return added


def _deliver_order_if_all_delivered(order_id: int) -> None:
    order = Order.objects.get(pk=order_id)
    if order.status != S.SHIPPED:
        return  # not shipped whole yet, refunding, or already delivered / completed
    statuses = set(Shipment.objects.filter(order_id=order_id).values_list("status", flat=True))
    if statuses == {ShipmentStatus.DELIVERED}:
        order_mark_delivered(order_id=order_id)


def shipment_subscribe(*, shipment_id: int) -> bool:
    """Ask the aggregator to push this parcel's events (no row locked during the call)."""
    parcel = Shipment.objects.get(pk=shipment_id)
    if parcel.subscribed_at is not None or parcel.carrier not in CARRIERS:
        return False
    provider = get_provider()
    phone = str((Order.objects.get(pk=parcel.order_id).address or {}).get("phone", ""))
    try:
        provider.subscribe(carrier=parcel.carrier, tracking_no=parcel.tracking_no, phone=phone)
    except TrackingError as exc:
        Shipment.objects.filter(pk=shipment_id).update(subscribe_error=str(exc)[:200])
        raise
    Shipment.objects.filter(pk=shipment_id).update(subscribed_at=timezone.now(), subscribe_error="")
    return True


def shipment_poll(*, shipment_id: int) -> int:
    """Query the aggregator for the parcel's events now and record them."""
    parcel = Shipment.objects.get(pk=shipment_id)
    if parcel.carrier not in CARRIERS:
        return 0
    phone = str((Order.objects.get(pk=parcel.order_id).address or {}).get("phone", ""))
    report = get_provider().query(
        carrier=parcel.carrier, tracking_no=parcel.tracking_no, phone=phone
    )
    return tracking_record(report=report)


def shipments_track_due(*, now=None, batch: int = 200) -> int:
    """Sweep: subscribe parcels whose subscription failed, and poll open parcels that
    heard nothing for six hours (a lost push). Each parcel on its own: one failing
    parcel is logged and skipped."""
    now = now or timezone.now()
    if get_provider().name == "none":
        return 0
    done = 0
    unsubscribed = Shipment.objects.filter(subscribed_at__isnull=True, carrier__in=list(CARRIERS))
    for shipment_id in unsubscribed.order_by("id").values_list("id", flat=True)[:batch]:
        try:
            done += int(shipment_subscribe(shipment_id=shipment_id))
        except Exception:
            log.exception("subscription failed", extra={"shipment_id": shipment_id})
    quiet = (
        Shipment.objects.exclude(status__in=FINAL)
        .filter(carrier__in=list(CARRIERS), created_at__lte=now - timedelta(hours=6))
        .exclude(status_at__gte=now - timedelta(hours=6))
    )
    for shipment_id in quiet.order_by("id").values_list("id", flat=True)[:batch]:
        try:
            done += shipment_poll(shipment_id=shipment_id)
        except Exception:
            log.exception("tracking poll failed", extra={"shipment_id": shipment_id})
    return done
