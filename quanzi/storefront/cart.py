"""The shopping cart lives in the session: ``{sku_id: qty}``. It holds no price; prices
come from the catalog and the pricing pipeline when the page is shown or the order placed.
"""

from __future__ import annotations

from dataclasses import dataclass

from quanzi.catalog.models import SKU
from quanzi.orders.quotes import Quote, sku_quotes

SESSION_KEY = "quanzi_cart"
CHECKOUT_KEY = "quanzi_checkout"
MAX_QTY = 999
MAX_LINES = 50


@dataclass
class CartLine:
    sku: SKU
    qty: int
    quote: Quote | None = None  # what the viewer pays per unit (``orders.quotes``)

    @property
    def unit_price(self) -> int:
        return self.quote.price if self.quote is not None else self.sku.price

    @property
    def product(self):
        return self.sku.product

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.qty

    @property
    def available(self) -> bool:
        return self.sku.is_active and self.sku.product.is_active and self.sku.stock >= self.qty


def cart_items(session) -> dict[int, int]:
    raw = session.get(SESSION_KEY) or {}
    items = {}
    for key, qty in raw.items():
        try:
            items[int(key)] = max(1, min(int(qty), MAX_QTY))
        except (TypeError, ValueError):
            continue
    return items


def _save(session, items: dict[int, int]) -> None:
    session[SESSION_KEY] = {str(k): v for k, v in items.items()}


def cart_add(session, *, sku_id: int, qty: int) -> int:
    items = cart_items(session)
    if sku_id not in items and len(items) >= MAX_LINES:
        return sum(items.values())
    items[sku_id] = max(1, min(items.get(sku_id, 0) + qty, MAX_QTY))
    _save(session, items)
    return sum(items.values())


def cart_set(session, *, sku_id: int, qty: int) -> None:
    items = cart_items(session)
    if qty <= 0:
        items.pop(sku_id, None)
    elif sku_id in items:
        items[sku_id] = min(qty, MAX_QTY)
    _save(session, items)


def cart_remove(session, sku_ids) -> None:
    items = cart_items(session)
    for sku_id in sku_ids:
        items.pop(int(sku_id), None)
    _save(session, items)


def cart_count(session) -> int:
    return sum(cart_items(session).values())


def cart_lines(session, *, user=None) -> list[CartLine]:
    """The cart's lines, each priced for ``user`` as checkout will price it."""
    items = cart_items(session)
    skus = SKU.objects.select_related("product").prefetch_related("product__images")
    found = {sku.pk: sku for sku in skus.filter(pk__in=list(items))}
    quotes = sku_quotes(user=user, skus=found.values())
    return [
        CartLine(sku=found[sku_id], qty=qty, quote=quotes[sku_id])
        for sku_id, qty in items.items()
        if sku_id in found
    ]


def checkout_set(
    session,
    *,
    items: list[dict[str, int]],
    source: str,
    channel: str = "normal",
    extra: dict | None = None,
) -> None:
    """What the checkout page will order: the items, and the selling channel with its
    reference (a group deal, a group to join, a bargain)."""
    session[CHECKOUT_KEY] = {
        "items": items,
        "source": source,
        "channel": channel,
        "extra": extra or {},
    }


def checkout_get(session) -> dict | None:
    data = session.get(CHECKOUT_KEY)
    if not isinstance(data, dict) or not data.get("items"):
        return None
    return data


def checkout_clear(session) -> None:
    data = session.pop(CHECKOUT_KEY, None)
    if data and data.get("source") == "cart":
        cart_remove(session, [item["sku_id"] for item in data["items"]])
