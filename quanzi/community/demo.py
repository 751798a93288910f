"""Demo community data for ``quanzi demo``: two leaders with points in one city and an
open wave of fresh produce, so the community home shows something at once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.services import user_create
    from quanzi.community.leaders import application_approve, application_create
    from quanzi.community.waves import wave_create

    operator = ctx["operator"]
    spots = [
        (
            "13800000101",
            "王阿姨",
            "幸福里小区 便利店",
            "杭州市西湖区文三路 88 号",
            30.2780,
            120.1330,
            "西湖区",
        ),
        (
            "13800000102",
            "李师傅",
            "翠苑一区 菜鸟驿站",
            "杭州市西湖区翠苑路 12 号",
            30.2890,
            120.1260,
            "西湖区",
        ),
    ]
    for phone, nickname, name, address, lat, lng, area in spots:
        user = user_create(phone=phone, password="demo1234", nickname=nickname)
        app = application_create(
            user=user,
            point={
                "name": name,
                "address": address,
                "lat": lat,
                "lng": lng,
                "area": area,
                "hours": "08:00-21:00",
                "capacity": 200,
            },
        )
        application_approve(application_id=app.pk, operator=operator)
    # Fresh produce and daily staples from the demo catalog, a little below retail.
    by_title = {product.title: product for product in ctx["products"]}
    items = []
    for title in (
        "阿克苏冰糖心苹果",
        "赣南脐橙 现摘现发",
        "手工空心挂面",
        "五常稻花香大米 当季新米",
    ):
        sku = by_title[title].skus.order_by("id").first()
        items.append(
            {
                "sku_id": sku.pk,
                "price": max(sku.supply_price, sku.price * 85 // 100),
                "stock": min(100, sku.stock // 2),
                "per_user_limit": 5,
            }
        )
    today = timezone.localdate()
    cutoff = timezone.make_aware(datetime.combine(today, time(23, 0)))
    if cutoff <= timezone.now() + timedelta(minutes=30):
        cutoff += timedelta(days=1)
    wave_create(
        title="今日鲜菜 次日自提",
        sale_date=timezone.localdate(cutoff),
        cutoff_at=cutoff,
        pickup_date=timezone.localdate(cutoff) + timedelta(days=1),
        pickup_start=time(9, 0),
        pickup_end=time(20, 0),
        items=items,
    )
