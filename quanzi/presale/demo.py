"""Demo co-creation data for ``quanzi demo``: ideas with votes, one of them turned into a
deposit pre-sale (taking deposits now), and a threshold pre-sale of a gift box."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.services import user_create
    from quanzi.presale.services.proposals import proposal_create, vote_cast
    from quanzi.presale.services.sales import presale_create

    customer = ctx["customer"]
    fans = [
        user_create(phone=f"1380000020{i}", password="demo1234", nickname=name)
        for i, name in enumerate(("茶友阿明", "蜂蜜控", "坚果党"))
    ]
    ideas = [
        proposal_create(
            user=customer,
            kind="product",
            title="大红袍出一款随身小罐装",
            body="出差带礼盒太重，想要 8 泡一罐的小罐。",
        ),
        proposal_create(
            user=fans[0], kind="product", title="蜂蜜出挤压瓶", body="玻璃瓶倒起来太粘手。"
        ),
        proposal_create(
            user=fans[1], kind="product", title="每日坚果出无盐版", body="给老人和小孩吃。"
        ),
    ]
    for idea, voters in zip(ideas, ([customer, *fans], fans[:2], fans[:1]), strict=True):
        for voter in voters:
            vote_cast(user=voter, proposal_id=idea.pk)
    by_title = {product.title: product for product in ctx["products"]}
    now = timezone.now()
    tea = by_title["武夷山大红袍 礼盒装"].skus.order_by("id").first()
    presale_create(
        mode="deposit",
        proposal_id=ideas[0].pk,
        sku_id=tea.pk,
        title="大红袍随身小罐 首发预售",
        price=tea.price * 80 // 100,
        starts_at=now,
        deposit=2000,
        deposit_value=4000,
        balance_starts_at=now + timedelta(days=3),
        balance_ends_at=now + timedelta(days=5),
        unpaid_rule="forfeit",
        per_user_limit=2,
    )
    nuts = by_title["每日坚果 混合装"].skus.order_by("id").first()
    presale_create(
        mode="threshold",
        sku_id=nuts.pk,
        title="每日坚果 年货礼盒 满 50 份开做",
        price=nuts.price * 85 // 100,
        starts_at=now,
        threshold_units=50,
        deadline=now + timedelta(days=7),
    )
