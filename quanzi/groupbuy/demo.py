"""Demo group deals for ``quanzi demo``: two 2-person deals and one 3-person deal."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.groupbuy.services import campaign_create

    by_title = {product.title: product for product in ctx["products"]}
    deals = [
        ("阿克苏冰糖心苹果", "冰糖心苹果 2人团", 2, 2990),
        ("赣南脐橙 现摘现发", "赣南脐橙 2人团", 2, 1990),
        ("每日坚果 混合装", "每日坚果 3人团 团长价更低", 3, 6990),
    ]
    for title, deal, size, group_price in deals:
        sku = by_title[title].skus.order_by("id").first()
        offer = {"sku_id": sku.pk, "group_price": group_price}
        if size == 3:
            offer["leader_price"] = group_price - 500
        campaign_create(
            title=deal,
            skus=[offer],
            group_size=size,
            group_ttl_seconds=24 * 3600,
            per_user_limit=5,
            stock=200,
            ends_at=timezone.now() + timedelta(days=30),
            simulated_fill_max_missing=1 if size == 3 else 0,
            # Shares of a group deal earn the sharer commission, as 我的收益 expects.
            commission_enabled=True,
        )
