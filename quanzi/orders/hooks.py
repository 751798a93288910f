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


def _no_member_price(sku: Any) -> int | None:
    return None


@dataclass(frozen=True)
class MemberTerms:
    """What a user's membership gives at checkout, read once per order (one query)."""

    price: Callable[[Any], int | None] = _no_member_price  # sku -> member unit price or None
    free_shipping: bool = False

    def unit_price(self, sku) -> int:
        price = self.price(sku)
        return sku.price if price is None else min(price, sku.price)


NO_TERMS = MemberTerms()


class PricingHooks:
    def __init__(self) -> None:
        # (user) -> MemberTerms: member prices and free shipping, read once per order
        self.member_terms: Callable[[Any], MemberTerms] | None = None
        # (user, coupon_id, lines[(sku, qty, amount)]) -> CouponApplication
        self.coupon: Callable[[Any, int, list[tuple[Any, int, int]]], CouponApplication] | None = (
            None
        )
        # (user, points, amount_after_coupon, settings) -> fen deducted
        self.points: Callable[[Any, int, int, Any], int] | None = None

    def terms(self, user) -> MemberTerms:
        return NO_TERMS if self.member_terms is None else self.member_terms(user)

    def member_unit_price(self, user, sku) -> int:
        return self.terms(user).unit_price(sku)


pricing_hooks = PricingHooks()


@dataclass(frozen=True)
class OrderDetail:
    """What a feature app adds to every order's view (a shipment's tracking, say):
    ``describe(order)`` answers ``{key: value}`` for the API (or ``{}`` when it has
    nothing), and the storefront's order page includes ``template`` with ``value``."""

    key: str
    describe: Callable[[Any], dict[str, Any]]
    template: str = ""


order_details: dict[str, OrderDetail] = {}


def register_order_detail(
    *, key: str, describe: Callable[[Any], dict[str, Any]], template: str = ""
) -> None:
    order_details[key] = OrderDetail(key=key, describe=describe, template=template)


def order_details_of(order) -> list[tuple[OrderDetail, Any]]:
    """Each registered detail with what it says about ``order`` (silent ones left out)."""
    found = []
    for detail in order_details.values():
        said = detail.describe(order)
        if detail.key in said:
            found.append((detail, said[detail.key]))
    return found
