"""The reconciler (Celery beat through the ``flash.reconcile`` sweep, and
``manage.py flash_reconcile``): idempotent, safe to run at any time and twice at once.

1. Tickets the gate handed out whose order was never written (the request died between
   the gate and its commit, or its transaction rolled back) are returned to the gate
   after ``grace`` seconds; tickets whose order exists are cleared. A queued ticket that
   is in flight but out of the queue (its writer was killed after popping it) is put
   back in the queue, up to ``REQUEUES`` times, then returned; a queue that no writer
   holds is drained here.
2. Unpaid flash orders past their payment window are cancelled: their units go back.
3. The gate is set to the database's figures (units left in the buckets minus the
   tickets still in flight; each buyer's units), which also repairs a gate that missed
   a give-back while Redis was away.
4. Sales past their end are closed: the units left go back on the shelf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from quanzi.core.logging import get_logger
from quanzi.flash import buckets, gate
from quanzi.flash.models import FlashItem, FlashOrder, FlashQuota, FlashSale

log = get_logger("quanzi.flash")

GRACE_SECONDS = 30
REQUEUES = 3


@dataclass
class Report:
    tickets_returned: int = 0
    tickets_cleared: int = 0
    tickets_requeued: int = 0
    tickets_written: int = 0
    orders_cancelled: int = 0
    sales_closed: int = 0
    gate_corrections: dict[int, int] = field(default_factory=dict)

    def total(self) -> int:
        return (
            self.tickets_returned
            + self.tickets_cleared
            + self.tickets_requeued
            + self.tickets_written
            + self.orders_cancelled
            + self.sales_closed
            + len(self.gate_corrections)
        )


def tickets_settle(*, item_id: int, grace: int, report: Report) -> None:
    due = {
        tid: info
        for tid, info in gate.tickets(
            item_id=item_id, ticket_ids=list(gate.pending(item_id=item_id))
        ).items()
        if info.at <= time.time() - grace
    }
    if not due:
        return
    written = set(FlashOrder.objects.filter(ticket__in=list(due)).values_list("ticket", flat=True))
    waiting = set(gate.queue(item_id=item_id)) if any(t.queued for t in due.values()) else set()
    tries_key = gate.keys(item_id)[2] + ":tries"
    for tid, ticket in due.items():
        if tid in written:
            gate.done(item_id=item_id, ticket_id=tid)
            report.tickets_cleared += 1
        elif ticket.queued and tid in waiting:
            continue  # a writer will take it (or the drain below)
        elif ticket.queued and int(gate.client().hincrby(tries_key, tid, 1)) <= REQUEUES:
            gate.requeue(item_id=item_id, ticket_ids=[tid])
            report.tickets_requeued += 1
            log.info("flash ticket requeued", extra={"flash_item_id": item_id, "ticket": tid})
        elif gate.release(item_id=item_id, ticket_id=tid, reason="flash_busy"):
            report.tickets_returned += 1
            log.info("flash ticket returned", extra={"flash_item_id": item_id, "ticket": tid})


def queue_drain(*, item_id: int, report: Report) -> None:
    """Write a queue that no writer holds (the writers are down, or were killed)."""
    from quanzi.flash.writer import drain

    if gate.client().llen(gate.keys(item_id)[3]) and gate.writer_claim(item_id=item_id):
        report.tickets_written += drain(item_id=item_id)


def gate_resync(*, item: FlashItem, report: Report) -> None:
    left = buckets.left_of([item.pk])[item.pk]
    held = dict(FlashQuota.objects.filter(item=item, units__gt=0).values_list("user_id", "units"))
    change = gate.resync(item_id=item.pk, left=left, held=held)
    if change:
        report.gate_corrections[item.pk] = change
        log.info("flash gate corrected", extra={"flash_item_id": item.pk, "change": change})


def unpaid_cancel(*, now, report: Report) -> None:
    from quanzi.orders.models import Order
    from quanzi.orders.services import order_cancel

    due = Order.objects.filter(
        channel="flash", status="pending_payment", expires_at__lte=now
    ).values_list("id", flat=True)[:500]
    for order_id in list(due):
        try:
            order_cancel(order_id=order_id, reason="payment_timeout")
            report.orders_cancelled += 1
        except Exception:  # noqa: BLE001 - logged with its id; the next run tries again
            log.exception("flash order cancel failed", extra={"order_id": order_id})


def reconcile(*, grace: int = GRACE_SECONDS, now=None) -> Report:
    from quanzi.flash.services import sale_close

    now = now or timezone.now()
    report = Report()
    unpaid_cancel(now=now, report=report)
    if gate.enabled():
        live = FlashItem.objects.filter(sale__closed_at__isnull=True, sale__ends_at__gt=now)
        for item in live.select_related("sale").order_by("id"):
            tickets_settle(item_id=item.pk, grace=grace, report=report)
            queue_drain(item_id=item.pk, report=report)
            gate_resync(item=item, report=report)
    ended = FlashSale.objects.filter(Q(closed_at__isnull=True) & Q(ends_at__lte=now))
    for sale_id in list(ended.values_list("id", flat=True)):
        sale_close(sale_id=sale_id)
        report.sales_closed += 1
    return report
