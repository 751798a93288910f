"""Demo membership plans and levels for ``quanzi demo``."""

from __future__ import annotations


def demo_step(ctx: dict) -> None:
    from quanzi.membership.services import level_create, plan_create

    plan_create(
        name="圈子年卡",
        price=9900,
        duration_days=365,
        points_multiplier_bp=20_000,
        free_shipping=True,
    )
    plan_create(
        name="圈子季卡",
        price=2990,
        duration_days=90,
        points_multiplier_bp=15_000,
        free_shipping=True,
    )
    for name, growth, discount, multiplier in [
        ("银卡会员", 50_000, 0, 12_000),
        ("金卡会员", 200_000, 200, 15_000),
    ]:
        level_create(
            data={
                "name": name,
                "min_growth": growth,
                "discount_bp": discount,
                "points_multiplier_bp": multiplier,
            }
        )
