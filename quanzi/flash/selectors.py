"""Reads of flash sales: what the storefront, the API and the dashboard show."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from quanzi.core.errors import NotFound
from quanzi.flash import buckets
from quanzi.flash.models import FlashItem, FlashSale
from quanzi.flash.services import sale_state


def sales_visible(now=None):
    """Sales not over yet (scheduled or open), soonest first."""
    now = now or timezone.now()
    return FlashSale.objects.filter(closed_at__isnull=True, ends_at__gt=now)


def sales_all():
    return FlashSale.objects.all()


def sale_get(*, sale_id: int, public: bool = False) -> FlashSale:
    sale = FlashSale.objects.filter(pk=sale_id).first()
    if sale is None:
        raise NotFound("flash_sale_not_found", "no such flash sale")
    return sale


def _items(sales: list[FlashSale]) -> dict[int, list[FlashItem]]:
    items = list(
        FlashItem.objects.filter(sale__in=sales)
        .select_related("sku__product")
        .prefetch_related(Prefetch("sku__product__images"))
        .order_by("id")
    )
    by_sale: dict[int, list[FlashItem]] = {sale.pk: [] for sale in sales}
    for item in items:
        by_sale[item.sale_id].append(item)
    left = buckets.left_of([item.pk for item in items])
    for item in items:
        item.left = left[item.pk]
    return by_sale


def _item_out(item: FlashItem) -> dict[str, Any]:
    images = list(item.sku.product.images.all())
    sold = item.allotment - item.left - item.returned
    return {
        "sku_id": item.sku_id,
        "product_id": item.sku.product_id,
        "title": item.sku.product.title,
        "sku_name": item.sku.name,
        "cover": images[0].url if images else "",
        "price": item.price,
        "retail_price": item.sku.price,
        "allotment": item.allotment,
        "sold": sold,
        "left": item.left,
        "sold_out": item.left == 0,
    }


def sales_out(sales: list[FlashSale]) -> list[dict[str, Any]]:
    items = _items(sales)
    now = timezone.now()
    out = []
    for sale in sales:
        state = sale_state(sale, now=now)
        rows = [_item_out(item) for item in items[sale.pk]]
        out.append(
            {
                "id": sale.pk,
                "title": sale.title,
                "starts_at": sale.starts_at,
                "ends_at": sale.ends_at,
                "state": state,
                "seconds_to_start": max(0, int((sale.starts_at - now).total_seconds())),
                "per_user_limit": sale.per_user_limit,
                "sold_out": bool(rows) and all(row["sold_out"] for row in rows),
                "items": rows,
                "closed_at": sale.closed_at,
                "buckets": sale.buckets,
            }
        )
    return out


def sale_out(sale: FlashSale) -> dict[str, Any]:
    return sales_out([sale])[0]


def sale_of_sku(*, sku_id: int, now=None) -> FlashSale | None:
    """The visible sale selling ``sku_id`` (for the product page), if any."""
    now = now or timezone.now()
    return sales_visible(now).filter(Q(items__sku_id=sku_id)).order_by("starts_at", "id").first()


def ticket_state(*, user, ticket_id: str) -> dict[str, Any]:
    """What became of a buyer's queued ticket: ``queued`` (a writer has not written it
    yet), ``ordered`` (with the order) or ``refused`` (with the writer's refusal code;
    its units went back). Another buyer's or an unknown ticket is ``404``."""
    from quanzi.flash import gate
    from quanzi.flash.models import FlashOrder

    def ordered() -> dict[str, Any] | None:
        fo = (
            FlashOrder.objects.filter(ticket=ticket_id, user_id=user.pk)
            .select_related("order")
            .first()
        )
        if fo is None:
            return None
        order = fo.order
        return {
            "ticket": ticket_id,
            "state": "ordered",
            "order_id": order.pk,
            "status": order.status,
            "payable": order.payable,
            "pay_before": order.expires_at,
            "code": None,
        }

    if gate.ticket_item(ticket_id) is None:
        raise NotFound("ticket_not_found", "no such ticket")
    found = ordered()
    if found:
        return found
    if gate.enabled():
        pending = gate.ticket(ticket_id=ticket_id)
        if pending is not None and pending.user_id == user.pk:
            return {"ticket": ticket_id, "state": "queued", "order_id": None, "code": None}
        refused = gate.refusal(ticket_id=ticket_id)
        if refused is not None and refused[0] == user.pk:
            return {"ticket": ticket_id, "state": "refused", "order_id": None, "code": refused[1]}
        found = ordered()  # written between the first look and the gate's
        if found:
            return found
    raise NotFound("ticket_not_found", "no such ticket")
