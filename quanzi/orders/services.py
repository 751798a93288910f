"""Order operations: place, pay, cancel, ship, confirm, complete, settle.

Each public function is one short transaction: lock the order row, re-check its state
under the lock, write. Stock is reserved at placement with a conditional update and
released on cancel or payment timeout, so concurrent buyers never oversell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from quanzi.accounts.models import Address, User
from quanzi.catalog.models import SKU, Product, ProductImage
from quanzi.catalog.services import sales_add_many, stock_release, stock_reserve
from quanzi.core.errors import Invalid, InvalidTransition, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.core.sql import children_of, insert_many, models_of, run
from quanzi.core.tasks import enqueue
from quanzi.core.transactions import service_atomic
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Entry, Leg, entries_post
from quanzi.orders.channels import Channel, LineRequest, PlaceContext, channel_for, observers
from quanzi.orders.models import Order, OrderEvent, OrderLine
from quanzi.orders.models import Status as S
from quanzi.orders.pricing import price_order
from quanzi.orders.states import transition

log = get_logger("quanzi.orders")

MAX_LINES = 50
MAX_QTY = 999


def order_get_for_user(*, user: User, order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None or (order.user_id != user.pk and not user.is_operator):
        # Someone else's order looks exactly like a missing one.
        raise NotFound("order_not_found", "no such order")
    return order


def _lock(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("order_not_found", "no such order")
    return order


_ADDRESSES = '"' + Address._meta.db_table + '"'


# The product columns an order's lines copy; the others are loaded on first use.
_LINE_PRODUCT_FIELDS = ("id", "title", "category_id", "supplier_id", "is_active", "is_virtual")


def _skus_for_lines(ids: list[int]) -> dict[int, SKU]:
    """The SKUs, each with its product (the columns a line copies) and its cover picture,
    in one written-out statement: the ORM spent more time building this query and its
    objects than the database spent answering it."""
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    product_cols = ", ".join(f"p.{quote(name)} AS p_{name}" for name in _LINE_PRODUCT_FIELDS)
    images = quote(ProductImage._meta.db_table)
    rows = models_of(
        SKU,
        f"SELECT {{columns}}, {product_cols}, (SELECT i.url FROM {images} i"
        " WHERE i.product_id = s.product_id ORDER BY i.sort, i.id LIMIT 1) AS cover"
        f" FROM {quote(SKU._meta.db_table)} s"
        f" JOIN {quote(Product._meta.db_table)} p ON p.id = s.product_id"
        f" WHERE s.id IN ({', '.join(['%s'] * len(ids))})",
        ids,
        table="s",
        extra=[f"p_{name}" for name in _LINE_PRODUCT_FIELDS] + ["cover"],
    )
    skus = {}
    for sku in rows:
        values = [getattr(sku, f"p_{name}") for name in _LINE_PRODUCT_FIELDS]
        sku.product = Product.from_db(conn.alias, _LINE_PRODUCT_FIELDS, values)
        skus[sku.pk] = sku
    return skus


def _collect_lines(items: list[dict[str, Any]]) -> list[LineRequest]:
    if not items:
        raise Invalid("empty_order", "an order needs at least one item")
    if len(items) > MAX_LINES:
        raise Invalid("too_many_lines", f"at most {MAX_LINES} different items per order")
    wanted: dict[int, int] = defaultdict(int)
    for item in items:
        sku_id, qty = item.get("sku_id"), item.get("qty")
        if not isinstance(sku_id, int) or not isinstance(qty, int) or qty < 1 or qty > MAX_QTY:
            raise Invalid(
                "invalid_quantity", f"each item needs an sku_id and a qty between 1 and {MAX_QTY}"
            )
        wanted[sku_id] += qty
    skus = _skus_for_lines(list(wanted))
    lines = []
    for sku_id in sorted(wanted):  # a fixed order: concurrent orders lock rows alike
        sku = skus.get(sku_id)
        if sku is None or not sku.is_active or not sku.product.is_active:
            raise Invalid("sku_unavailable", "this item is not on sale", {"sku_id": sku_id})
        if wanted[sku_id] > MAX_QTY:
            raise Invalid("invalid_quantity", f"at most {MAX_QTY} of one item")
        lines.append(LineRequest(sku=sku, qty=wanted[sku_id]))
    return lines


def order_place(
    *,
    user: User,
    items: list[dict[str, Any]],
    address_id: int | None = None,
    coupon_id: int | None = None,
    points: int = 0,
    share_token: str = "",
    note: str = "",
    channel: str = "normal",
    extra: dict[str, Any] | None = None,
) -> Order:
    """Price, reserve and create a ``pending_payment`` order in one transaction."""
    chan = channel_for(channel)
    lines = _collect_lines(items)
    ctx = PlaceContext(user=user, lines=lines, extra=extra or {})
    settings = get_settings()
    with service_atomic():
        chan.price(ctx)
        address: dict[str, str] = {}
        if ctx.needs_address:
            if address_id is None:
                raise Invalid("address_required", "choose a delivery address")
            found = models_of(
                Address,
                f"SELECT {{columns}} FROM {_ADDRESSES} WHERE id = %s AND user_id = %s"
                " AND NOT is_deleted",
                [address_id, user.pk],
            )
            addr = found[0] if found else None
            if addr is None:
                raise Invalid("invalid_address", "no such address", {"address_id": address_id})
            address = addr.snapshot()
        priced = price_order(ctx, settings=settings, coupon_id=coupon_id, points=points or 0)
        if priced.payable <= 0 and not (channel != "normal" or settings.points.allow_free_orders):
            raise Invalid("payable_too_low", "an order must leave something to pay")
        if chan.reserves_sku_stock:
            for line in lines:
                stock_reserve(sku_id=line.sku.pk, qty=line.qty)
        order = Order(
            user=user,
            channel=chan.name,
            channel_ref=ctx.channel_ref,
            commission_enabled=ctx.commission_enabled,
            total=priced.total,
            discount=priced.discount,
            shipping=priced.shipping,
            payable=priced.payable,
            points_used=priced.points_used,
            coupon_id=priced.coupon_id,
            address=address,
            share_token=(share_token or "")[:40],
            note=(note or "")[:200],
            expires_at=timezone.now() + timedelta(seconds=settings.payment_timeout_seconds),
        )
        # Written out (every placement): one INSERT each for the order and its lines.
        insert_many([order], pks=True)
        created = [
            OrderLine(
                order=order,
                sku=line.sku,
                product=line.sku.product,
                supplier_id=line.sku.product.supplier_id,
                title=line.sku.product.title,
                sku_name=line.sku.name,
                image=getattr(line.sku, "cover", None) or "",
                qty=line.qty,
                retail_price=line.sku.price,
                unit_price=line.unit_price,
                supply_price=(
                    line.sku.supply_price if line.supply_price is None else line.supply_price
                ),
                coupon_discount=p.coupon,
                points_discount=p.points,
                paid=p.paid,
                breakdown=p.breakdown(),
            )
            for line, p in zip(lines, priced.lines, strict=True)
        ]
        insert_many(created, pks=True)
        # The lines as written: an answer can be made without reading them back.
        order.placed_lines = created
        chan.reserve(ctx, order)
        for observer in observers():
            observer.on_priced(ctx, order)
        if order.payable == 0:
            _apply_paid(order, actor_id=user.pk, note="nothing to pay")
    log.info(
        "order placed", extra={"order_id": order.pk, "user_id": user.pk, "payable": order.payable}
    )
    return order


def _apply_paid(order: Order, *, actor_id: int | None, note: str = "") -> None:
    chan = channel_for(order.channel)
    events: list[OrderEvent] = []
    transition(order, S.PAID, actor_id=actor_id, note=note, save=False, events=events)
    plain = type(chan).after_paid is Channel.after_paid
    if not plain:
        # A channel deciding from the database (group buying looks at the whole group)
        # sees the paid order written first. The plain checkout's next status needs no
        # read, so its order is written once, paid and to_ship together.
        _write(order, events)
    # The lines, read once here, are what every observer's ``order.lines.all()`` sees.
    children_of(order, "lines")
    sales_add_many([(line.product_id, line.qty) for line in order.lines.all()])
    for observer in observers():
        observer.on_paid(order)
    nxt = chan.after_paid(order)
    if nxt != S.PAID:
        transition(order, nxt, note="after payment", save=False, events=events)
    if plain:
        # Payment moves the status and stamps ``paid_at``; observers of a paid order
        # write their own rows, never the order's: two columns, written out.
        _write_paid(order, events)
    else:
        _write(order, events)


def _write(order: Order, events: list[OrderEvent]) -> None:
    """Save an order moved by ``transition(save=False, events=…)`` and its events."""
    if events:
        order.save()
        OrderEvent.objects.bulk_create(events)
        events.clear()


def _write_paid(order: Order, events: list[OrderEvent]) -> None:
    """``_write`` of a freshly paid plain order: its status and ``paid_at`` (one UPDATE),
    its events (one INSERT)."""
    conn = transaction.get_connection()
    paid_at = Order._meta.get_field("paid_at").get_db_prep_save(order.paid_at, conn)
    run(
        f"UPDATE {conn.ops.quote_name(Order._meta.db_table)}"
        " SET status = %s, paid_at = %s WHERE id = %s",
        [order.status, paid_at, order.pk],
    )
    insert_many(events)
    events.clear()


def order_mark_paid(*, order: Order) -> bool:
    """Apply a captured payment to a locked order. False when the order can no longer take it.

    Called by the payments app inside its capture transaction, with ``order`` locked.
    An order still ``pending_payment`` keeps its stock reserved even past its timeout
    until the sweep cancels it, so accepting it here never sells stock twice.
    """
    if order.status != S.PENDING_PAYMENT:
        return False
    _apply_paid(order, actor_id=None, note="payment captured")
    return True


@transaction.atomic
def order_cancel(*, order_id: int, actor: User | None = None, reason: str = "user") -> Order:
    order = _lock(order_id)
    if actor is not None and order.user_id != actor.pk and not actor.is_operator:
        raise NotFound("order_not_found", "no such order")
    if order.status == S.CANCELLED:
        return order
    if order.status != S.PENDING_PAYMENT:
        raise InvalidTransition(
            "invalid_transition",
            "only unpaid orders can be cancelled; ask for a refund instead",
            {"from": order.status, "to": S.CANCELLED},
        )
    _release(order)
    order.cancel_reason = reason[:40]
    transition(order, S.CANCELLED, actor_id=actor.pk if actor else None, note=reason)
    return order


def _release(order: Order) -> None:
    if order.payments.filter(status="created").exists():
        # After commit, with no row locked: close them at the gateway so that an old QR
        # code or pay URL takes no money (the reconcile sweep retries what fails).
        enqueue("quanzi.payments.services.payments_close_for_order", order_id=order.pk)
    chan = channel_for(order.channel)
    if chan.reserves_sku_stock:
        for line in order.lines.order_by("sku_id"):
            stock_release(sku_id=line.sku_id, qty=line.qty)
    chan.on_cancelled(order)
    for observer in observers():
        observer.on_cancelled(order)


def orders_expire_unpaid(*, now=None, batch: int = 500, failed: set[int] | None = None) -> int:
    """Sweep: cancel orders whose payment window has passed (idempotent). Ids in
    ``failed`` are left out; ids that fail are added to it."""
    now = now or timezone.now()
    ids = _due(
        Order.objects.filter(status=S.PENDING_PAYMENT, expires_at__lte=now),
        batch=batch,
        failed=failed,
    )

    def expire(order_id: int) -> bool:
        order = _lock(order_id)
        if order.status != S.PENDING_PAYMENT or order.expires_at > now:
            return False
        _release(order)
        order.cancel_reason = "payment_timeout"
        transition(order, S.CANCELLED, note="payment timeout")
        return True

    return _sweep(ids, _each(expire), what="payment timeout", failed=failed)


# Orders settled per transaction by ``orders_settle_due``.
SWEEP_CHUNK = 200


def _each(one: Callable[[int], bool]) -> Callable[[list[int]], int]:
    """A chunk function that runs ``one(id)`` for each id of the chunk."""
    return lambda chunk: sum(1 for item in chunk if one(item))


def _sweep(
    ids: list[int],
    many: Callable[[list[int]], int],
    *,
    what: str,
    failed: set[int] | None = None,
    chunk_size: int = 1,
) -> int:
    """Run ``many(chunk)`` (lock, check, write; no transaction of its own; returns how many
    it did) over ``ids``, ``chunk_size`` ids per transaction.

    Chunks save commits (WAL flushes) and let ``many`` batch its statements; they suit
    sweeps that touch no hot rows (settlement), never stock (a chunk would hold a flash
    deal's SKU row for the whole chunk). When anything in a chunk fails, the chunk is
    rolled back and done again one id per transaction. An id that fails alone is logged
    with its id and skipped (added to ``failed``): the ids after it are still done, and
    the next run tries it again (see docs/architecture.md, "Sweeps").
    """
    done = 0
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        try:
            with transaction.atomic():
                done += many(chunk)
            continue
        except Exception:
            if len(chunk) == 1:
                _skip(chunk[0], what=what, failed=failed)
                continue
        for item in chunk:  # one by one: only the failing id is left out
            try:
                with transaction.atomic():
                    done += many([item])
            except Exception:
                _skip(item, what=what, failed=failed)
    return done


def _skip(order_id: int, *, what: str, failed: set[int] | None) -> None:
    log.exception(f"{what} failed; order skipped until the next run", extra={"order_id": order_id})
    if failed is not None:
        failed.add(order_id)


def _due(queryset, *, batch: int, failed: set[int] | None) -> list[int]:
    if failed:
        queryset = queryset.exclude(pk__in=failed)
    return list(queryset.order_by("id").values_list("id", flat=True)[:batch])


@transaction.atomic
def order_ship(
    *, order_id: int, carrier: str, tracking_no: str, actor: User | None = None
) -> Order:
    order = _lock(order_id)
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip()
    if not carrier or not tracking_no:
        raise Invalid("invalid_shipment", "carrier and tracking number are required")
    if order.status != S.TO_SHIP:
        raise InvalidTransition(
            "invalid_transition",
            f"an order that is {order.status} cannot be shipped",
            {"from": order.status, "to": S.SHIPPED},
        )
    if not channel_for(order.channel).may_ship(order):
        raise InvalidTransition("not_shippable", "this order may not ship yet")
    order.carrier, order.tracking_no = carrier[:40], tracking_no[:60]
    transition(order, S.SHIPPED, actor_id=actor.pk if actor else None)
    for observer in observers():
        observer.on_shipped(order)
    return order


@transaction.atomic
def order_mark_delivered(*, order_id: int) -> Order:
    order = _lock(order_id)
    if order.status == S.DELIVERED:
        return order
    transition(order, S.DELIVERED, note="carrier delivered")
    return order


def _complete(order: Order, *, actor_id: int | None, note: str) -> None:
    settings = get_settings()
    transition(order, S.COMPLETED, actor_id=actor_id, note=note, save=False)
    order.after_sales_ends_at = order.completed_at + timedelta(seconds=settings.after_sales_seconds)
    order.save()
    for observer in observers():
        observer.on_completed(order)


@transaction.atomic
def order_confirm_receipt(*, order_id: int, user: User) -> Order:
    order = _lock(order_id)
    if order.user_id != user.pk:
        raise NotFound("order_not_found", "no such order")
    if order.status == S.COMPLETED:
        return order
    if order.status not in (S.SHIPPED, S.DELIVERED, S.PICKED_UP):
        raise InvalidTransition(
            "invalid_transition",
            f"an order that is {order.status} cannot be confirmed",
            {"from": order.status, "to": S.COMPLETED},
        )
    _complete(order, actor_id=user.pk, note="receipt confirmed")
    return order


def order_complete(*, order_id: int, note: str = "completed") -> Order:
    """Complete a picked-up or delivered order (used by pickup flows)."""
    with transaction.atomic():
        order = _lock(order_id)
        if order.status != S.COMPLETED:
            _complete(order, actor_id=None, note=note)
        return order


def orders_auto_confirm(*, now=None, batch: int = 500, failed: set[int] | None = None) -> int:
    """Sweep: confirm receipt of orders shipped longer ago than ``auto_confirm_seconds``."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=get_settings().auto_confirm_seconds)
    ids = _due(
        Order.objects.filter(status__in=[S.SHIPPED, S.DELIVERED], shipped_at__lte=cutoff),
        batch=batch,
        failed=failed,
    )

    def confirm(order_id: int) -> bool:
        order = _lock(order_id)
        if order.status in (S.SHIPPED, S.DELIVERED) and order.shipped_at <= cutoff:
            _complete(order, actor_id=None, note="auto-confirmed")
            return True
        return False

    return _sweep(ids, _each(confirm), what="auto-confirm", failed=failed)


def _settlement_legs(orders: list[Order]) -> dict[int, list[Leg]]:
    """Split what each order kept (payable − refunds) into supplier cost, shares and
    revenue; every observer is asked once for all the orders."""
    # Fetched once for everyone: observers reading ``order.lines.all()`` reuse them.
    prefetch_related_objects(orders, Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    legs: dict[int, list[Leg]] = {}
    net_lines: dict[int, list[dict[str, int]]] = {}
    for order in orders:
        supplier_cost: dict[int | None, int] = defaultdict(int)
        net_lines[order.pk] = []
        for line in order.lines.all():
            kept_qty = line.qty - line.refunded_qty
            net_lines[order.pk].append(
                {"line_id": line.pk, "paid": line.paid - line.refunded_amount, "qty": kept_qty}
            )
            supplier_cost[line.supplier_id] += line.supply_price * kept_qty
        legs[order.pk] = [Leg(chart.CUSTOMER_FUNDS, order.payable - order.refunded_amount)] + [
            Leg(chart.supplier_payable(supplier_id), -cost)
            for supplier_id, cost in sorted(supplier_cost.items(), key=lambda kv: kv[0] or 0)
        ]
    for observer in observers():
        for order_id, extra in observer.settlement_legs_many(orders, net_lines).items():
            legs[order_id].extend(extra)
    for order_legs in legs.values():
        order_legs.append(Leg(chart.PLATFORM_REVENUE, -sum(leg.amount for leg in order_legs)))
    return legs


def order_settle(*, order_id: int, now=None) -> bool:
    """Book the order's split once its after-sales window has ended (idempotent)."""
    with transaction.atomic():
        _lock(order_id)  # a missing order is an error, not "nothing to settle"
        return _settle_many([order_id], now or timezone.now()) == 1


def _settle_many(order_ids: list[int], now) -> int:
    """Settle those of ``order_ids`` that are due, in the caller's transaction, in a few
    statements for all of them: lock, lines, each observer's rows, the journal entries
    and their postings, the orders' stamp. Returns how many were settled."""
    orders = list(
        Order.objects.select_for_update()
        .filter(
            pk__in=order_ids,
            status=S.COMPLETED,
            settled_at__isnull=True,
            after_sales_ends_at__lte=now,
        )
        .order_by("id")
    )
    if not orders:
        return 0
    legs = _settlement_legs(orders)
    entries_post(
        [
            Entry(
                key=f"settle:{order.pk}",
                kind="settlement",
                legs=legs[order.pk],
                order_id=order.pk,
                memo="after-sales window ended",
            )
            for order in orders
        ]
    )
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(settled_at=now)
    for order in orders:
        order.settled_at = now
    for observer in observers():
        observer.on_settled_many(orders)
    log.info("orders settled", extra={"order_ids": [order.pk for order in orders]})
    return len(orders)


def orders_settle_due(*, now=None, batch: int = 1000, failed: set[int] | None = None) -> int:
    """Sweep: settle completed orders whose after-sales window has ended."""
    now = now or timezone.now()
    ids = _due(
        Order.objects.filter(
            status=S.COMPLETED, settled_at__isnull=True, after_sales_ends_at__lte=now
        ),
        batch=batch,
        failed=failed,
    )
    return _sweep(
        ids,
        lambda chunk: _settle_many(chunk, now),
        what="settlement",
        failed=failed,
        chunk_size=SWEEP_CHUNK,
    )
