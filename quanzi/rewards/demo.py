"""A demo lottery (抽奖) for ``quanzi demo``."""

from __future__ import annotations


def demo_step(ctx: dict) -> None:
    from quanzi.rewards.invites import reward_campaign_create
    from quanzi.rewards.lottery import lottery_create

    honey = next(p for p in ctx["products"] if p.title.startswith("秦岭土蜂蜜"))
    lottery_create(
        title="每日幸运大转盘",
        cost_points=20,
        free_draws_per_day=1,
        prizes=[
            {
                "name": "秦岭土蜂蜜一瓶",
                "kind": "product",
                "weight": 1,
                "stock": 5,
                "sku_id": honey.skus.first().pk,
            },
            {"name": "50 积分", "kind": "points", "weight": 30, "stock": 1000, "points": 50},
            {"name": "10 积分", "kind": "points", "weight": 60, "stock": 10000, "points": 10},
            {"name": "谢谢参与", "kind": "none", "weight": 40, "stock": 0},
        ],
    )
    reward_campaign_create(
        title="邀请 3 位好友首单，得 300 积分",
        kind="invite",
        trigger="first_order",
        needed=3,
        reward={"points": 300},
        max_per_user=10,
    )
