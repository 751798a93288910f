"""A demo friend-bargaining deal for ``quanzi demo``."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.bargain.services import campaign_create

    product = next(p for p in ctx["products"] if p.title.startswith("武夷山大红袍"))
    sku = product.skus.order_by("id").first()
    campaign_create(
        sku_id=sku.pk,
        title="好友帮砍 大红袍礼盒 砍到 9.9 元",
        start_price=sku.price,
        floor_price=990,
        helpers_min=3,
        helpers_max=6,
        ttl_seconds=24 * 3600,
        per_user_limit=1,
        stock=50,
        ends_at=timezone.now() + timedelta(days=30),
    )
