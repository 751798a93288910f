"""Pricing hooks that feature apps fill in (membership, coupons, points, shipping).

Each hook has a neutral default so the core prices orders alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class CouponApplication:
    """A coupon's effect on an order: the discount and the lines it may touch."""

    coupon_id: int
    discount: int
    eligible: Sequence[int]  # indexes into the order's lines


class PricingHooks:
    def __init__(self) -> None:
        # (user, sku) -> member unit price or None
        self.member_price: Callable[[Any, Any], int | None] | None = None
        # (user, coupon_id, lines[(sku, qty, amount)]) -> CouponApplication
        self.coupon: Callable[[Any, int, list[tuple[Any, int, int]]], CouponApplication] | None = (
            None
        )
        # (user, points, amount_after_coupon, settings) -> fen deducted
        self.points: Callable[[Any, int, int, Any], int] | None = None
        # (user) -> True when the user ships free (e.g. a paid membership)
        self.free_shipping: Callable[[Any], bool] | None = None

    def member_unit_price(self, user, sku) -> int:
        if self.member_price is not None:
            price = self.member_price(user, sku)
            if price is not None:
                return min(price, sku.price)
        return sku.price


pricing_hooks = PricingHooks()
