"""The writers of queued flash tickets: many orders per transaction, through the one
order pipeline.

With the gate in queue mode (``FLASH_QUEUE``) the buyer's request only passes the gate:
the Lua script takes the units, records the ticket and appends it to the item's queue in
one step, and the request answers ``202`` with the ticket. A writer pops up to ``batch``
tickets and places their orders with ``order_place`` (the ``flash`` channel takes the
units from the buckets and records the ticket on ``FlashOrder``) inside **one**
transaction, so the commit and its fsync are shared by the batch. After the commit the
tickets are cleared from the gate.

* A batch that fails is redone one ticket per transaction: a ticket refused there
  (``QuanziError``: the address is gone, the buckets are empty after a gate rebuild…) is
  released — its units go back to the gate and the buyer's poll reads the refusal code.
  A ticket whose order already exists (written by another writer after a requeue) is
  cleared. An unexpected error leaves the ticket in flight for the reconciler.
* A writer killed mid-batch wrote nothing (its transaction never committed); the tickets
  it had popped are in flight, out of the queue: the reconciler puts them back in the
  queue after its grace period, and drains a queue nobody writes.
* One writer claims an item at a time when woken by requests (``FLASH_WRITER = "task"``:
  the take that finds no writer queues the ``drain`` task); ``follow`` processes (any
  number) pop from the same queues, the pops being atomic.
"""

from __future__ import annotations

import time

from django.db import IntegrityError

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger
from quanzi.core.transactions import all_or_nothing
from quanzi.flash import gate
from quanzi.flash.models import FlashItem, FlashOrder

log = get_logger("quanzi.flash")

BATCH = 100


def _place(ticket: gate.Ticket, item: FlashItem, user) -> None:
    from quanzi.flash.channel import NAME
    from quanzi.orders.services import order_place

    order_place(
        user=user,
        items=[{"sku_id": item.sku_id, "qty": ticket.qty}],
        address_id=ticket.address_id,
        channel=NAME,
        extra={"_item": item, "_ticket": ticket},
    )


def write_batch(*, item_id: int, batch: int = BATCH) -> int:
    """Pop up to ``batch`` tickets of the item and write their orders; returns how many
    tickets it popped (written, refused or already written)."""
    from quanzi.accounts.models import User

    ids = gate.pop(item_id=item_id, count=batch)
    if not ids:
        return 0
    live = gate.tickets(item_id=item_id, ticket_ids=ids)  # released ones are gone
    written = set(FlashOrder.objects.filter(ticket__in=list(live)).values_list("ticket", flat=True))
    gate.done_many(item_id=item_id, ticket_ids=sorted(written))
    todo = [t for tid, t in live.items() if tid not in written]
    if not todo:
        return len(ids)
    item = FlashItem.objects.select_related("sale").filter(pk=item_id).first()
    if item is None:  # the sale is gone: nothing to write against
        for t in todo:
            gate.release(item_id=item_id, ticket_id=t.id, reason="flash_ended")
        return len(ids)
    users = User.objects.in_bulk([t.user_id for t in todo])
    try:
        with all_or_nothing():
            for t in todo:
                _place(t, item, users.get(t.user_id))
    except Exception:  # noqa: BLE001 - redone one by one below, each failure on its own
        log.info("flash batch redone one by one", extra={"flash_item_id": item_id})
        _one_by_one(todo, item, users)
    else:
        gate.done_many(item_id=item_id, ticket_ids=[t.id for t in todo])
    return len(ids)


def _one_by_one(todo: list[gate.Ticket], item: FlashItem, users) -> None:
    for t in todo:
        try:
            with all_or_nothing():
                _place(t, item, users.get(t.user_id))
        except QuanziError as exc:
            gate.release(item_id=item.pk, ticket_id=t.id, reason=exc.code or "refused")
            log.info(
                "flash ticket refused",
                extra={"flash_item_id": item.pk, "ticket": t.id, "code": exc.code},
            )
        except IntegrityError:
            if FlashOrder.objects.filter(ticket=t.id).exists():
                gate.done(item_id=item.pk, ticket_id=t.id)
            else:
                log.exception("flash ticket not written", extra={"ticket": t.id})
        except Exception:  # noqa: BLE001 - left in flight: the reconciler requeues it
            log.exception("flash ticket not written", extra={"ticket": t.id})
        else:
            gate.done(item_id=item.pk, ticket_id=t.id)


def drain(*, item_id: int, batch: int = BATCH, seconds: float = 60.0) -> int:
    """Write the item's queue until it is empty (the task a take wakes; it holds the
    item's writer claim, renewed per batch, and lets it go at the end)."""
    deadline = time.monotonic() + seconds
    total = 0
    while True:
        n = write_batch(item_id=item_id, batch=batch)
        total += n
        if n:
            gate.writer_renew(item_id=item_id)
            if time.monotonic() < deadline:
                continue
        if not gate.writer_done(item_id=item_id) or time.monotonic() >= deadline:
            return total


def wake(ticket: gate.Ticket) -> None:
    """Start a writer for the ticket's item when this take claimed it."""
    from django.conf import settings
    from django.db import transaction

    from quanzi.core.tasks import enqueue

    if ticket.wake and settings.FLASH_WRITER == "task":
        # Once per burst, not per buyer: the block makes the task leave at its commit
        # (or the request's, under Idempotency-Key) in every mode.
        with transaction.atomic():
            enqueue("quanzi.flash.writer.drain", item_id=ticket.item_id)


def live_items() -> list[int]:
    from django.utils import timezone

    return list(
        FlashItem.objects.filter(
            sale__closed_at__isnull=True, sale__ends_at__gt=timezone.now()
        ).values_list("id", flat=True)
    )


def follow(*, batch: int = BATCH, idle: float = 0.02, seconds: float | None = None) -> int:
    """A long-running writer (``manage.py flash_write --follow``): pops every live item's
    queue in turn, sleeping ``idle`` seconds when all are empty."""
    from django.db import close_old_connections

    deadline = None if seconds is None else time.monotonic() + seconds
    total = 0
    items: list[int] = []
    checked = 0.0
    while deadline is None or time.monotonic() < deadline:
        if time.monotonic() - checked > 2:
            close_old_connections()
            items, checked = live_items(), time.monotonic()
        n = sum(write_batch(item_id=item_id, batch=batch) for item_id in items)
        total += n
        if not n:
            time.sleep(idle)
    return total
