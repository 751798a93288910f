"""Order invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, F, Q, Sum

from quanzi.ledger.checks import invariant
from quanzi.ledger.models import JournalEntry
from quanzi.orders import fund_checks, stock_checks  # noqa: F401 - they register theirs
from quanzi.orders.models import Order, OrderLine


@invariant("every paid order has exactly one payment entry")
def _one_payment_entry() -> Iterator[str]:
    counts = dict(
        JournalEntry.objects.filter(kind="payment")
        .values_list("order_id")
        .annotate(n=Count("id"))
        .values_list("order_id", "n")
    )
    paid = Order.objects.filter(paid_at__isnull=False, payable__gt=0).values_list("id", flat=True)
    for order_id in paid.iterator():
        n = counts.pop(order_id, 0)
        if n != 1:
            yield f"order {order_id} is paid but has {n} payment entries"
    for order_id, n in list(counts.items())[:20]:
        yield f"order {order_id} has {n} payment entries but was never paid"


@invariant("lines add up to the order")
def _lines_add_up() -> Iterator[str]:
    sums = Order.objects.annotate(goods=Sum("lines__paid")).exclude(
        goods=F("payable") - F("shipping")
    )
    for order in sums[:20]:
        yield f"order {order.pk}: lines paid {order.goods} but payable − shipping is {order.payable - order.shipping}"


@invariant("refunds stay within what was paid")
def _refunds_within() -> Iterator[str]:
    for order in Order.objects.filter(refunded_amount__gt=F("payable"))[:20]:
        yield f"order {order.pk} refunded {order.refunded_amount} of {order.payable}"
    over = OrderLine.objects.filter(Q(refunded_amount__gt=F("paid")) | Q(refunded_qty__gt=F("qty")))
    for line in over[:20]:
        yield f"order line {line.pk} refunded more than it paid"


@invariant("settled orders booked once")
def _settled_once() -> Iterator[str]:
    settled = set(Order.objects.filter(settled_at__isnull=False).values_list("id", flat=True))
    entries = list(
        JournalEntry.objects.filter(kind="settlement").values_list("order_id", flat=True)
    )
    if len(entries) != len(set(entries)):
        yield "an order has more than one settlement entry"
    for order_id in settled.symmetric_difference(entries):
        yield f"order {order_id}: settled flag and settlement entry disagree"
