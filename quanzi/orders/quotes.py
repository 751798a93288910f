"""What a given viewer pays for one unit of a SKU in a selling channel, before any coupon
or points: the one answer the product page, the cart, checkout and the API show.

It runs the channel's own ``price`` (the same code that prices the order at checkout),
so the figure a shopper sees is the figure the order charges:

    normal   the retail price, or the member price for an active member (``member``)
    group    the group price, or the leader price for whoever opens the group (``leader``)
    bargain  the bargain's current price

The channel runs in a transaction that is rolled back: it may lock rows, never write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.db import transaction

from quanzi.orders.channels import LineRequest, PlaceContext, channel_for
from quanzi.orders.hooks import pricing_hooks

KINDS = ("retail", "member", "group", "leader", "bargain")


@dataclass(frozen=True)
class Quote:
    sku_id: int
    retail: int  # the SKU's list price per unit, fen
    price: int  # what this viewer pays per unit in this channel, fen
    kind: str  # one of KINDS

    @property
    def saving(self) -> int:
        return max(0, self.retail - self.price)


_ANONYMOUS = SimpleNamespace(pk=None, id=None, is_authenticated=False)


def _viewer(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def sku_quotes(
    *, user, skus: Iterable[Any], channel: str = "normal", extra: dict | None = None
) -> dict[int, Quote]:
    """Quotes of many SKUs for one viewer, by SKU id (membership read once)."""
    skus = list(skus)
    viewer = _viewer(user)
    if channel == "normal":
        terms = pricing_hooks.terms(viewer) if viewer is not None else None
        quotes = {}
        for sku in skus:
            unit = terms.unit_price(sku) if terms is not None else sku.price
            kind = "member" if unit < sku.price else "retail"
            quotes[sku.pk] = Quote(sku_id=sku.pk, retail=sku.price, price=unit, kind=kind)
        return quotes
    return {sku.pk: sku_quote(user=viewer, sku=sku, channel=channel, extra=extra) for sku in skus}


def sku_quote(*, user, sku, channel: str = "normal", extra: dict | None = None) -> Quote:
    """What ``user`` (None: a visitor) pays for one ``sku`` in ``channel``.

    ``extra`` names the channel's object as checkout does (``campaign_id`` or
    ``group_id`` for a group, ``bargain_id`` for a bargain). Raises the channel's own
    error when the viewer may not buy there (deal over, limit reached…).
    """
    viewer = _viewer(user)
    if channel == "normal":
        return sku_quotes(user=viewer, skus=[sku])[sku.pk]
    line = LineRequest(sku=sku, qty=1)
    ctx = PlaceContext(user=viewer or _ANONYMOUS, lines=[line], extra=dict(extra or {}))
    with transaction.atomic():
        channel_for(channel).price(ctx)
        transaction.set_rollback(True)
    kind = ctx.extra.get("_price_kind") or channel
    if kind not in KINDS:
        kind = "retail"
    return Quote(sku_id=sku.pk, retail=sku.price, price=line.unit_price, kind=kind)
