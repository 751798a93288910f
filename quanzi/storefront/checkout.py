"""What the checkout page shows before the order exists: the same pricing pipeline the
order will go through (channel price → coupon → points → shipping → payable), run on a
copy that is never saved."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from quanzi.catalog.models import SKU
from quanzi.core.errors import Invalid, QuanziError
from quanzi.core.platform_settings import get_settings
from quanzi.orders.channels import LineRequest, PlaceContext, channel_for
from quanzi.orders.pricing import PricedOrder, price_order


@dataclass
class Preview:
    lines: list[LineRequest]
    priced: PricedOrder | None
    error: QuanziError | None = None
    accepts_coupon: bool = True
    accepts_points: bool = True


def checkout_preview(
    *,
    user,
    items: list[dict[str, int]],
    coupon_id: int | None = None,
    points: int = 0,
    channel: str = "normal",
    extra: dict | None = None,
) -> Preview:
    skus = {
        sku.pk: sku
        for sku in SKU.objects.select_related("product")
        .prefetch_related("product__images")
        .filter(pk__in=[item["sku_id"] for item in items])
    }
    lines = [
        LineRequest(sku=skus[item["sku_id"]], qty=item["qty"])
        for item in items
        if item["sku_id"] in skus
    ]
    if not lines:
        return Preview(lines=[], priced=None, error=Invalid("empty_order", "empty"))
    ctx = PlaceContext(user=user, lines=lines, extra=dict(extra or {}))
    try:
        with transaction.atomic():
            channel_for(channel).price(ctx)
            priced = price_order(ctx, settings=get_settings(), coupon_id=coupon_id, points=points)
            transaction.set_rollback(True)
    except QuanziError as exc:
        return Preview(lines=lines, priced=None, error=exc)
    return Preview(
        lines=lines,
        priced=priced,
        accepts_coupon=ctx.accepts_coupon,
        accepts_points=ctx.accepts_points,
    )
