"""Flash sale operations: create, close, buy through the gate, rebuild the gate."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.models import SKU
from quanzi.catalog.services import OutOfStock, stock_release, stock_reserve
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.flash import buckets, gate
from quanzi.flash.channel import NAME, limit_error
from quanzi.flash.models import FlashBucket, FlashItem, FlashQuota, FlashSale

log = get_logger("quanzi.flash")

MAX_ITEMS = 20
MAX_BUCKETS = 64
MAX_ALLOTMENT = 1_000_000


def _check(cond: bool, code: str, message: str, detail: dict | None = None) -> None:
    if not cond:
        raise Invalid(code, message, detail or {})


def sale_create(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    per_user_limit: int,
    items: list[dict[str, Any]],
    buckets_per_item: int = 8,
) -> FlashSale:
    """Create a sale; each item's allotment leaves its SKU's shelf now (409
    ``out_of_stock`` when the shelf has fewer)."""
    title = (title or "").strip()
    _check(0 < len(title) <= 120, "invalid_title", "a sale needs a title of at most 120 characters")
    _check(ends_at > starts_at, "invalid_window", "a sale ends after it starts")
    _check(ends_at > timezone.now(), "invalid_window", "a sale cannot end in the past")
    _check(0 <= per_user_limit <= 999, "invalid_limit", "the per-user limit is 0 (any) to 999")
    _check(1 <= buckets_per_item <= MAX_BUCKETS, "invalid_buckets", "1 to 64 buckets per item")
    _check(1 <= len(items) <= MAX_ITEMS, "invalid_items", "a sale sells 1 to 20 items")
    skus = {s.pk: s for s in SKU.objects.filter(pk__in=[i["sku_id"] for i in items])}
    seen: set[int] = set()
    for item in items:
        sku = skus.get(item["sku_id"])
        if sku is None:
            raise NotFound("sku_not_found", "no such item", {"sku_id": item["sku_id"]})
        _check(sku.pk not in seen, "duplicate_sku", "an item appears once per sale")
        seen.add(sku.pk)
        _check(
            0 < item["price"] <= sku.price,
            "invalid_price",
            "the flash price is 1 fen to the retail price",
            {"sku_id": sku.pk},
        )
        _check(
            0 < item["allotment"] <= MAX_ALLOTMENT,
            "invalid_allotment",
            "an allotment is 1 to 1,000,000 units",
            {"sku_id": sku.pk},
        )
    with transaction.atomic():
        sale = FlashSale.objects.create(
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            per_user_limit=per_user_limit,
            buckets=buckets_per_item,
        )
        for item in sorted(items, key=lambda i: i["sku_id"]):
            stock_reserve(sku_id=item["sku_id"], qty=item["allotment"])
            row = FlashItem.objects.create(
                sale=sale, sku_id=item["sku_id"], price=item["price"], allotment=item["allotment"]
            )
            shares = buckets.split(item["allotment"], buckets_per_item)
            FlashBucket.objects.bulk_create(
                [FlashBucket(item=row, index=i, left=n) for i, n in enumerate(shares)]
            )
            # Fewer buckets than asked when the allotment is smaller than their number.
        log.info("flash sale created", extra={"flash_sale_id": sale.pk})
    return sale


def sale_close(*, sale_id: int) -> FlashSale:
    """Close a sale (idempotent): the units left go back on their SKUs' shelves."""
    with transaction.atomic():
        sale = FlashSale.objects.select_for_update().filter(pk=sale_id).first()
        if sale is None:
            raise NotFound("flash_sale_not_found", "no such flash sale")
        if sale.closed_at is not None:
            return sale
        sale.closed_at = timezone.now()
        sale.save(update_fields=["closed_at"])
        items = list(FlashItem.objects.filter(sale=sale).order_by("sku_id"))
        for item in items:
            rows = list(FlashBucket.objects.select_for_update().filter(item=item).order_by("index"))
            units = sum(row.left for row in rows)
            FlashBucket.objects.filter(item=item).update(left=0)
            if units:
                FlashItem.objects.filter(pk=item.pk).update(returned=F("returned") + units)
                stock_release(sku_id=item.sku_id, qty=units)
        transaction.on_commit(items_forget)
        if gate.enabled():
            ids = [item.pk for item in items]
            transaction.on_commit(lambda: _gate_drop(ids))
        log.info("flash sale closed", extra={"flash_sale_id": sale.pk})
    return sale


def _gate_drop(item_ids: list[int]) -> None:
    for item_id in item_ids:
        try:
            gate.drop(item_id=item_id)
        except Exception:  # noqa: BLE001 - a stale gate only admits buyers the buckets refuse
            log.exception("flash gate drop failed", extra={"flash_item_id": item_id})


def sale_state(sale: FlashSale, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if sale.closed_at is not None or now >= sale.ends_at:
        return "ended"
    if now < sale.starts_at:
        return "scheduled"
    return "open"


def gate_rebuild(*, item: FlashItem) -> bool:
    """Load the gate of ``item`` from the database (Redis lost its keys, or first use).
    Tickets in flight when the keys were lost are not counted: the buckets refuse any
    buyer the gate then admits beyond what is left."""
    sale = item.sale
    left = 0 if sale_state(sale) == "ended" else buckets.left_of([item.pk])[item.pk]
    held = dict(FlashQuota.objects.filter(item=item, units__gt=0).values_list("user_id", "units"))
    loaded = gate.load(item_id=item.pk, left=left, held=held)
    if loaded:
        log.info("flash gate rebuilt", extra={"flash_item_id": item.pk, "left": left})
    return loaded


def _item(sale_id: int, sku_id: int) -> FlashItem:
    item = FlashItem.objects.select_related("sale").filter(sale_id=sale_id, sku_id=sku_id).first()
    if item is None:
        if not FlashSale.objects.filter(pk=sale_id).exists():
            raise NotFound("flash_sale_not_found", "no such flash sale")
        raise Invalid(
            "sku_not_in_sale", "this item is not sold in this flash sale", {"sku_id": sku_id}
        )
    return item


def _pass_gate(item: FlashItem, user: User, qty: int, *, queue: bool = False, address_id=None):
    for _ in range(2):
        answer = gate.take(
            item_id=item.pk,
            user_id=user.pk,
            qty=qty,
            limit=item.sale.per_user_limit,
            queue=queue,
            address_id=address_id,
        )
        ticket = _gate_answer(item, answer)
        if ticket is None:
            gate_rebuild(item=item)
            continue
        return ticket
    raise Conflict("flash_busy", "the flash sale is busy; try again")


# The queue path's item and sale, read at most once a second per process: at a sale's
# start every buyer asks for the same row, and the gate (not this copy) decides. A sale
# closed meanwhile is answered by the gate, which closing drops: its rebuild finds the
# buckets empty.
ITEM_CACHE_SECONDS = 1.0
_items: dict[tuple[int, int], tuple[float, FlashItem]] = {}


def items_forget() -> None:
    _items.clear()


def _item_fresh(sale_id: int, sku_id: int) -> FlashItem | None:
    """This process's copy of the item while it is under a second old."""
    hit = _items.get((sale_id, sku_id))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _item_cached(sale_id: int, sku_id: int) -> FlashItem:
    item = _item_fresh(sale_id, sku_id)
    if item is not None:
        return item
    item = _item(sale_id, sku_id)
    if len(_items) > 1000:
        _items.clear()
    _items[(sale_id, sku_id)] = (time.monotonic() + ITEM_CACHE_SECONDS, item)
    return item


def _open_item(sale_id: int, sku_id: int, qty: int, *, cached: bool = False) -> FlashItem:
    _check(1 <= qty <= 999, "invalid_quantity", "qty is 1 to 999")
    item = _item_cached(sale_id, sku_id) if cached else _item(sale_id, sku_id)
    _check_open(item, qty)
    return item


def _check_open(item: FlashItem, qty: int) -> None:
    sale = item.sale
    state = sale_state(sale)
    if state == "scheduled":
        raise Conflict(
            "flash_not_started",
            "this flash sale has not started",
            {"starts_at": sale.starts_at.isoformat()},
        )
    if state == "ended":
        raise Conflict("flash_ended", "this flash sale has ended")
    if sale.per_user_limit and qty > sale.per_user_limit:
        raise limit_error(sale.per_user_limit)


def _gate_answer(item: FlashItem, answer):
    """The ticket, or the refusal of ``gate.take``'s answer (None: the gate needs a
    rebuild)."""
    if answer == gate.NOT_LOADED:
        return None
    if answer == gate.SOLD_OUT:
        raise OutOfStock("out_of_stock", "sold out", {"sku_id": item.sku_id})
    if answer == gate.OVER_LIMIT:
        raise limit_error(item.sale.per_user_limit)
    return answer


def flash_queue(*, user: User, sale_id: int, sku_id: int, qty: int, address_id: int | None):
    """Pass the gate and queue the ticket (gate in queue mode): no order is written here.
    A writer writes it in a batch (``writer``); the buyer polls the ticket. Returns the
    ticket."""
    from quanzi.flash import writer

    item = _open_item(sale_id, sku_id, qty, cached=True)
    if address_id is None:
        raise Invalid("address_required", "choose a delivery address")
    ticket = _pass_gate(item, user, qty, queue=True, address_id=address_id)
    writer.wake(ticket)
    return ticket


# The reads of an item in flight on the running loop: at a sale's start (and each time
# the copy is a second old) every buyer in flight misses the copy at once; they share
# one read instead of queueing as many on the front's threads.
_loading: dict[tuple[int, int], Any] = {}


async def _item_async(sale_id: int, sku_id: int, run_sync) -> FlashItem:
    import asyncio

    item = _item_fresh(sale_id, sku_id)
    if item is not None:
        return item
    key = (sale_id, sku_id)
    pending = _loading.get(key)
    if pending is None or pending.get_loop() is not asyncio.get_running_loop():
        pending = asyncio.ensure_future(run_sync(_item_cached, sale_id, sku_id))
        _loading[key] = pending

        def forget(done) -> None:
            if _loading.get(key) is done:
                del _loading[key]

        pending.add_done_callback(forget)
    return await asyncio.shield(pending)


async def flash_queue_async(
    *,
    user_id: int | None = None,
    user_key: str | None = None,
    sale_id: int,
    sku_id: int,
    qty: int,
    address_id: int | None,
    run_sync,
    on_buyer=None,
):
    """``flash_queue`` on an event loop (the async front): the same checks in the same
    order and the same gate script; what touches the database (the sale's item when this
    process's copy is older than a second, a gate rebuild, waking a writer) is handed to
    ``run_sync`` (a thread of the front's), never run on the loop. The buyer is
    ``user_id``, or the one the token cache names at ``user_key`` (a key on the gate's
    Redis, read by the gate's script): then None when the cache does not know it, and
    ``on_buyer`` is told the id when the script refuses the buyer it named; the caller
    makes sure the buyer is known before it answers any other refusal raised here."""
    from quanzi.flash import writer

    _check(1 <= qty <= 999, "invalid_quantity", "qty is 1 to 999")
    item = await _item_async(sale_id, sku_id, run_sync)
    _check_open(item, qty)
    if address_id is None:
        raise Invalid("address_required", "choose a delivery address")
    for _ in range(2):
        answer = await gate.take_async(
            item_id=item.pk,
            user_id=user_id,
            user_key=user_key,
            qty=qty,
            limit=item.sale.per_user_limit,
            queue=True,
            address_id=address_id,
        )
        if answer == gate.UNKNOWN_BUYER:
            return None
        if isinstance(answer, gate.Refused):
            if on_buyer is not None:
                on_buyer(answer.user_id)
            answer = answer.code
        ticket = _gate_answer(item, answer)
        if ticket is None:
            await _gate_rebuild_async(item, run_sync)
            continue
        if ticket.wake:
            await run_sync(writer.wake, ticket)
        return ticket
    raise Conflict("flash_busy", "the flash sale is busy; try again")


_rebuilds: dict[tuple[int, int], asyncio.Task] = {}


async def _gate_rebuild_async(item: FlashItem, run_sync) -> None:
    """``gate_rebuild`` from an event loop, once at a time per item: the buyers who find
    the gate unloaded together (a sale's first second, Redis restarted) wait for one
    rebuild, not one each."""
    loop = asyncio.get_running_loop()
    key = (id(loop), item.pk)
    rebuild = _rebuilds.get(key)
    if rebuild is None:
        rebuild = _rebuilds[key] = asyncio.ensure_future(run_sync(gate_rebuild, item=item))
        rebuild.add_done_callback(lambda _: _rebuilds.pop(key, None))
    await asyncio.shield(rebuild)


def flash_buy(
    *,
    user: User,
    sale_id: int,
    sku_id: int,
    qty: int,
    address_id: int | None,
    gateway: str | None = None,
    note: str = "",
):
    """Place an order of a flash sale: the gate first (Redis), then the order through the
    normal pipeline, whose reserve step takes the units from the buckets and records the
    ticket. Returns ``(order, payment or None)``."""
    from quanzi.orders.services import order_place
    from quanzi.payments.services import order_checkout

    item = _open_item(sale_id, sku_id, qty)
    ticket = _pass_gate(item, user, qty) if gate.enabled() else None
    place = {
        "user": user,
        "items": [{"sku_id": sku_id, "qty": qty}],
        "address_id": address_id,
        "note": note,
        "channel": NAME,
        "extra": {"_item": item, "_ticket": ticket},
    }
    try:
        if gateway is None:
            order, payment = order_place(**place), None
        else:
            order, payment = order_checkout(gateway=gateway, **place)
    except BaseException:
        if ticket is not None:
            _release(ticket)
        raise
    if ticket is not None:
        transaction.on_commit(lambda: _done(ticket))
    return order, payment


def ticket_give_back(*, ticket_id: str) -> None:
    """Give back a ticket whose request answered with another (a keyed twin)."""
    item_id = gate.ticket_item(ticket_id)
    if item_id is not None:
        _release(gate.Ticket(item_id=item_id, user_id=0, qty=0, id=ticket_id))


def _release(ticket: gate.Ticket) -> None:
    try:
        gate.release(item_id=ticket.item_id, ticket_id=ticket.id)
    except Exception:  # noqa: BLE001 - the reconciler returns it
        log.exception("flash ticket release failed", extra={"ticket": ticket.id})


def _done(ticket: gate.Ticket) -> None:
    try:
        gate.done(item_id=ticket.item_id, ticket_id=ticket.id)
    except Exception:  # noqa: BLE001 - the reconciler finds the order and clears it
        log.exception("flash ticket done failed", extra={"ticket": ticket.id})
