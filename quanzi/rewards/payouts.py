"""What a prize or a reward pays, through the marketing app's public functions only."""

from __future__ import annotations

from typing import Any


def points_give(*, user_id: int, amount: int, reason: str, key: str) -> None:
    from quanzi.marketing.points import points_credit

    points_credit(user_id=user_id, amount=amount, reason=reason, key=key)


def points_take(*, user_id: int, amount: int, reason: str, key: str) -> None:
    from quanzi.marketing.points import points_debit

    points_debit(user_id=user_id, amount=amount, reason=reason, key=key)


def coupon_template_exists(template_id: int) -> bool:
    from quanzi.marketing.models import CouponTemplate

    return CouponTemplate.objects.filter(pk=template_id).exists()


def coupon_give(*, user: Any, template_id: int, source: str) -> int | None:
    """Issue one coupon of ``template_id``; returns its id."""
    from quanzi.marketing.services import coupon_grant

    coupon = coupon_grant(user=user, template_id=template_id, source=source)
    return getattr(coupon, "pk", coupon)
