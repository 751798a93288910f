"""Demo community data for ``quanzi demo``: two leaders with points in one city and an
open wave of fresh produce, so the community home shows something at once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.services import user_create
    from quanzi.catalog.services import product_create
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
    produce = [
        ("本地小青菜 500g", 390, 200),
        ("土鸡蛋 10 枚", 1290, 700),
        ("麒麟西瓜 约 4kg", 2590, 1500),
        ("小黄鱼 冰鲜 500g", 1990, 1200),
    ]
    items = []
    for title, price, supply in produce:
        product = product_create(
            title=title,
            category="生鲜水果",
            supplier_id=ctx["suppliers"]["生鲜"].pk,
            skus=[{"name": "默认", "price": price + 300, "supply_price": supply, "stock": 1000}],
        )
        items.append(
            {"sku_id": product.skus.get().pk, "price": price, "stock": 300, "per_user_limit": 5}
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
