"""After the cutoff: close the wave (its unsold stock goes back to the shelves), then,
once no order of the wave awaits payment, write its purchase orders. Unpicked orders
are refunded or reminded. Every sweep is idempotent: a second run changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.catalog.services import stock_release
from quanzi.community import clock
from quanzi.community.models import (
    CommunityOrder,
    CommunitySettings,
    PurchaseOrder,
    PurchaseOrderLine,
    Wave,
    WaveItem,
    WaveStatus,
)
from quanzi.core.logging import get_logger
from quanzi.core.transactions import retry_on_conflict
from quanzi.orders.models import Order, OrderLine
from quanzi.orders.models import Status as S

log = get_logger("quanzi.community")

# Orders whose goods go to the points: paid, not cancelled, not refunded in full.
LIVE = (S.PAID, S.TO_SHIP, S.PICKED_UP, S.COMPLETED, S.REFUNDING)


def wave_close(*, wave_id: int, now=None) -> bool:
    """Close a wave whose cutoff has passed; True if this call closed it."""
    now = now or clock.now()
    with transaction.atomic():
        # FOR NO KEY UPDATE: an order being placed holds a key-share lock on the wave
        # (its CommunityOrder row points at it) after it took its item's row; a plain
        # FOR UPDATE here would wait on it while holding the wave, and the order would
        # wait on the item below: a deadlock. Items are then locked as orders lock them.
        wave = Wave.objects.select_for_update(no_key=True).filter(pk=wave_id).first()
        if wave is None or wave.status != WaveStatus.OPEN or wave.cutoff_at > now:
            return False
        # Items in SKU order, each row locked: an order reserving now either committed
        # before (its units counted as sold) or finds ``remaining`` at 0 (wave_closed).
        for item in WaveItem.objects.select_for_update().filter(wave=wave).order_by("sku_id"):
            if item.remaining:
                stock_release(sku_id=item.sku_id, qty=item.remaining)
                WaveItem.objects.filter(pk=item.pk).update(
                    returned=F("returned") + item.remaining, remaining=0
                )
        wave.status = WaveStatus.CLOSED
        wave.closed_at = timezone.now()
        wave.save(update_fields=["status", "closed_at"])
    log.info("wave closed", extra={"wave_id": wave_id})
    return True


def waves_close_due(*, now=None) -> int:
    now = now or clock.now()
    ids = Wave.objects.filter(status=WaveStatus.OPEN, cutoff_at__lte=now).values_list(
        "id", flat=True
    )
    return sum(
        1
        for wave_id in list(ids)
        if retry_on_conflict(lambda wave_id=wave_id: wave_close(wave_id=wave_id, now=now))
    )


def purchase_quantities(wave_id: int) -> dict[tuple[int, int], dict]:
    """(supplier key, sku id) → qty and cost: what the wave's live orders kept."""
    out: dict[tuple[int, int], dict] = {}
    lines = OrderLine.objects.filter(
        order__channel="community", order__channel_ref=str(wave_id), order__status__in=LIVE
    ).values_list(
        "supplier_id", "sku_id", "title", "sku_name", "supply_price", "qty", "refunded_qty"
    )
    for supplier_id, sku_id, title, sku_name, supply, qty, refunded in lines:
        row = out.setdefault(
            (supplier_id or 0, sku_id),
            {"title": f"{title} {sku_name}".strip(), "supply_price": supply, "qty": 0},
        )
        row["qty"] += qty - refunded
    return out


def wave_aggregate(*, wave_id: int) -> bool:
    """Write the wave's purchase orders once (per supplier, per SKU); True if written."""
    with transaction.atomic():
        wave = Wave.objects.select_for_update(no_key=True).filter(pk=wave_id).first()
        if wave is None or wave.status != WaveStatus.CLOSED or wave.aggregated_at is not None:
            return False
        pending = Order.objects.filter(
            channel="community", channel_ref=str(wave_id), status=S.PENDING_PAYMENT
        ).exists()
        if pending:
            return False  # their payment windows end soon; the next run aggregates
        per_supplier: dict[int, list] = defaultdict(list)
        for (supplier_key, sku_id), row in sorted(purchase_quantities(wave_id).items()):
            if row["qty"] > 0:
                per_supplier[supplier_key].append((sku_id, row))
        for supplier_key, rows in per_supplier.items():
            po = PurchaseOrder.objects.create(
                wave=wave,
                supplier_id=supplier_key or None,
                supplier_key=supplier_key,
                total_cost=sum(r["qty"] * r["supply_price"] for _, r in rows),
            )
            PurchaseOrderLine.objects.bulk_create(
                [
                    PurchaseOrderLine(
                        purchase_order=po,
                        sku_id=sku_id,
                        title=r["title"][:200],
                        qty=r["qty"],
                        supply_price=r["supply_price"],
                        cost=r["qty"] * r["supply_price"],
                    )
                    for sku_id, r in rows
                ]
            )
        wave.aggregated_at = timezone.now()
        wave.save(update_fields=["aggregated_at"])
    log.info("purchase orders written", extra={"wave_id": wave_id, "suppliers": len(per_supplier)})
    return True


def waves_aggregate_due() -> int:
    ids = Wave.objects.filter(status=WaveStatus.CLOSED, aggregated_at__isnull=True).values_list(
        "id", flat=True
    )
    return sum(1 for wave_id in list(ids) if wave_aggregate(wave_id=wave_id))


def pickup_deadline(wave: Wave, days: int) -> datetime:
    """The end of the pickup window: ``days`` after the pickup date, at midnight."""
    start = datetime.combine(wave.pickup_date, datetime.min.time())
    return timezone.make_aware(start) + timedelta(days=days)


def orders_unpicked(*, now=None) -> int:
    """Orders not collected by their deadline (``unpicked_days`` after the pickup date):
    refunded in full (``unpicked_action`` = refund) or reminded once a day (remind).
    A day before the deadline the customer is reminded once."""
    from quanzi.notifications.services import notify
    from quanzi.orders.models import Refund
    from quanzi.orders.refunds import OPEN, refund_create_auto

    now = now or clock.now()
    settings = CommunitySettings.current()
    done = 0
    last_day = timezone.localdate(now) - timedelta(days=max(settings.unpicked_days - 1, 0))
    candidates = (
        CommunityOrder.objects.select_related("wave")
        .filter(
            order__status=S.TO_SHIP,
            picked_up_at__isnull=True,
            wave__status=WaveStatus.CLOSED,
            wave__pickup_date__lte=last_day,
        )
        .order_by("order_id")
    )
    for co in candidates[:500]:
        deadline = pickup_deadline(co.wave, settings.unpicked_days)
        if now < deadline:
            if co.reminded_at is None and now >= deadline - timedelta(days=1):
                CommunityOrder.objects.filter(pk=co.pk).update(reminded_at=now)
                notify(
                    user_id=co.user_id,
                    kind="community_pickup_deadline",
                    title="Pick up your order by tomorrow",
                    body=f"Your goods wait at {co.point_snapshot.get('name', '')}; code {co.code}.",
                    data={"order_id": co.order_id, "deadline": deadline.isoformat()},
                )
                done += 1
            continue
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=co.order_id)
                if order.status != S.TO_SHIP:
                    continue
                if settings.unpicked_action == "refund":
                    if Refund.objects.filter(order=order, status__in=OPEN).exists():
                        continue
                    refund_create_auto(order=order, reason="not picked up in time")
                    notify(
                        user_id=order.user_id,
                        kind="community_unpicked_refund",
                        title="Order refunded",
                        body="Your order was not picked up in time and has been refunded.",
                        data={"order_id": order.pk},
                    )
                else:
                    if co.reminded_at and now - co.reminded_at < timedelta(days=1):
                        continue
                    CommunityOrder.objects.filter(pk=co.pk).update(reminded_at=now)
                    notify(
                        user_id=order.user_id,
                        kind="community_pickup_reminder",
                        title="Please pick up your order",
                        body=f"Your goods are waiting at {co.point_snapshot.get('name', '')}.",
                        data={"order_id": order.pk, "code": co.code},
                    )
                done += 1
        except Exception:
            log.exception("unpicked order failed; skipped", extra={"order_id": co.order_id})
    return done
