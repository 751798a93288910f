"""Community purchase orders (what a supplier delivers to the warehouse for a wave),
and the supplier's confirmation that it delivered them."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from quanzi.core.errors import NotFound
from quanzi.supply.models import PurchaseOrderDelivery


def _purchase_orders():
    from quanzi.community.models import PurchaseOrder

    return PurchaseOrder.objects


def purchase_orders_of(*, supplier_id: int, limit: int = 100) -> list[dict]:
    pos = list(
        _purchase_orders()
        .filter(supplier_id=supplier_id)
        .select_related("wave")
        .prefetch_related("lines")
        .order_by("-id")[:limit]
    )
    deliveries = {
        d.purchase_order_id: d
        for d in PurchaseOrderDelivery.objects.filter(purchase_order_id__in=[p.pk for p in pos])
    }
    out = []
    for po in pos:
        delivery = deliveries.get(po.pk)
        out.append(
            {
                "id": po.pk,
                "wave_id": po.wave_id,
                "wave_title": po.wave.title,
                "pickup_date": po.wave.pickup_date,
                "total_cost": po.total_cost,
                "lines": [
                    {
                        "sku_id": line.sku_id,
                        "title": line.title,
                        "qty": line.qty,
                        "supply_price": line.supply_price,
                        "cost": line.cost,
                    }
                    for line in po.lines.all()
                ],
                "delivered_at": delivery.confirmed_at if delivery else None,
                "delivery_note": delivery.note if delivery else "",
            }
        )
    return out


def delivery_confirm(
    *, supplier, purchase_order_id: int, user, note: str = ""
) -> PurchaseOrderDelivery:
    """The supplier says the goods of its purchase order reached the warehouse
    (idempotent: a second confirmation returns the first)."""
    po = _purchase_orders().filter(pk=purchase_order_id, supplier_id=supplier.pk).first()
    if po is None:
        raise NotFound("purchase_order_not_found", "no such purchase order")
    existing = PurchaseOrderDelivery.objects.filter(purchase_order_id=po.pk).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return PurchaseOrderDelivery.objects.create(
                purchase_order_id=po.pk,
                supplier=supplier,
                confirmed_by_id=user.pk,
                note=(note or "")[:200],
            )
    except IntegrityError:  # confirmed meanwhile by another request
        return PurchaseOrderDelivery.objects.get(purchase_order_id=po.pk)
