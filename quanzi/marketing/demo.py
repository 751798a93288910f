"""Demo coupons for ``quanzi demo``: a claimable 满减 coupon and a new-user gift."""

from __future__ import annotations


def demo_step(ctx: dict) -> None:
    from quanzi.marketing.services import coupon_grant, coupon_template_create

    coupon_template_create(
        data={
            "name": "满99减10",
            "kind": "amount_off",
            "amount": 1000,
            "threshold": 9900,
            "scope": "all",
            "valid_days": 30,
            "total": 1000,
            "per_user_limit": 1,
        }
    )
    gift = coupon_template_create(
        data={
            "name": "新人专享 满30减5",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 3000,
            "scope": "all",
            "valid_days": 14,
            "total": 10000,
            "per_user_limit": 1,
            "new_user_gift": True,
        }
    )
    coupon_grant(user=ctx["customer"], template_id=gift.pk, source="demo")
