"""Stock conservation per SKU, for ``quanzi ledger check`` (registered by ``checks``).

Every unit an SKU ever received (``stock_received``: the first stock plus restocks) is
on the shelf, reserved by an unpaid order, sold, or held by a channel outside its
orders (a lottery's prize units); refunded units that went back on the shelf are sold
no more. docs/ledger.md says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Sum

from quanzi.catalog.models import SKU
from quanzi.ledger.checks import invariant
from quanzi.orders.channels import channels
from quanzi.orders.models import OrderLine, Refund, RefundStatus
from quanzi.orders.models import Status as S

LIMIT = 20


@invariant("stock is conserved per SKU")
def _stock_conserved() -> Iterator[str]:
    reserving = [c.name for c in channels() if c.reserves_sku_stock]
    taken: dict[int, int] = defaultdict(int)
    lines = (
        OrderLine.objects.filter(order__channel__in=reserving)
        .exclude(order__status=S.CANCELLED)
        .values_list("sku_id")
        .annotate(units=Sum("qty"))
        .values_list("sku_id", "units")
    )
    for sku_id, units in lines:
        taken[sku_id] += units
    restocked = Refund.objects.filter(
        status=RefundStatus.SUCCEEDED, restock=True, order__channel__in=reserving
    ).exclude(kind="unapplied")
    parts = [part for refund in restocked.only("lines").iterator() for part in refund.lines]
    sku_of = dict(
        OrderLine.objects.filter(pk__in={part["line_id"] for part in parts}).values_list(
            "id", "sku_id"
        )
    )
    returned: dict[int, int] = defaultdict(int)
    for part in parts:
        returned[sku_of[part["line_id"]]] += part["qty"]
    held: dict[int, int] = defaultdict(int)
    for channel in channels():
        for sku_id, units in channel.sku_units_held().items():
            held[sku_id] += units
    shown = 0
    tracked = SKU.objects.filter(stock_received__isnull=False).values_list(
        "id", "stock", "stock_received"
    )
    for sku_id, shelf, received in tracked.order_by("id").iterator():
        accounted = shelf + taken[sku_id] - returned[sku_id] + held[sku_id]
        if accounted != received:
            yield (
                f"sku {sku_id} received {received} units but shelf {shelf} + orders "
                f"{taken[sku_id]} - returned {returned[sku_id]} + channels {held[sku_id]}"
                f" = {accounted}"
            )
            shown += 1
            if shown >= LIMIT:
                return
