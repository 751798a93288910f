"""Demo flash sales for ``quanzi demo``: one open now (two items, one per person) and
one starting in two hours, so the storefront shows both the sale and its countdown."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.flash.services import sale_create

    by_title = {product.title: product for product in ctx["products"]}
    now = timezone.now()

    def sku(title: str):
        return by_title[title].skus.order_by("id").first()

    apple, oil, rice = (
        sku("阿克苏冰糖心苹果"),
        sku("古法压榨花生油 一级"),
        sku("五常稻花香大米 当季新米"),
    )
    sale_create(
        title="整点秒杀 · 水果粮油",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=3),
        per_user_limit=1,
        items=[
            {"sku_id": apple.pk, "price": apple.price // 2, "allotment": 50},
            {"sku_id": oil.pk, "price": oil.price // 2, "allotment": 30},
        ],
    )
    sale_create(
        title="晚八点秒杀 · 新米",
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(days=1),
        per_user_limit=2,
        items=[{"sku_id": rice.pk, "price": rice.price // 2, "allotment": 40}],
    )
