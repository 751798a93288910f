"""Community invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import F

from quanzi.community.models import CommunityOrder, PurchaseOrderLine, WaveItem
from quanzi.ledger.checks import invariant
from quanzi.orders.models import OrderLine
from quanzi.orders.models import Status as S

LIMIT = 20


@invariant("community wave stock is conserved")
def _wave_stock() -> Iterator[str]:
    """Every unit a wave took from the shelf is unsold, held by an order, back on the
    shelf or written off; and ``sold`` is what the wave's orders hold."""
    shown = 0
    bad = WaveItem.objects.exclude(
        stock=F("remaining") + F("sold") + F("returned") + F("written_off")
    )
    for item in bad[:LIMIT]:
        shown += 1
        yield f"wave item {item.pk} lost units: stock {item.stock} != parts"
    held: dict[tuple[int, int], int] = defaultdict(int)
    rows = (
        OrderLine.objects.filter(order__channel="community")
        .exclude(order__status=S.CANCELLED)
        .values_list("order__channel_ref", "sku_id", "qty", "refunded_qty")
    )
    for wave_ref, sku_id, qty, refunded in rows.iterator():
        held[(int(wave_ref), sku_id)] += qty - refunded
    for item in WaveItem.objects.only("id", "wave_id", "sku_id", "sold").iterator():
        if held[(item.wave_id, item.sku_id)] != item.sold:
            yield (
                f"wave item {item.pk} counts {item.sold} sold but its orders hold "
                f"{held[(item.wave_id, item.sku_id)]}"
            )
            shown += 1
            if shown >= LIMIT:
                return


@invariant("community orders know their wave and point")
def _orders_linked() -> Iterator[str]:
    known = set(CommunityOrder.objects.values_list("order_id", flat=True))
    lines = OrderLine.objects.filter(order__channel="community").values_list("order_id", flat=True)
    for order_id in sorted(set(lines) - known)[:LIMIT]:
        yield f"community order {order_id} has no pickup record"


@invariant("purchase orders are not negative")
def _po_sane() -> Iterator[str]:
    for line in PurchaseOrderLine.objects.exclude(cost=F("qty") * F("supply_price"))[:LIMIT]:
        yield f"purchase order line {line.pk} costs {line.cost} for {line.qty} units"
