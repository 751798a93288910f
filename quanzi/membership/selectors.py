"""Membership reads: who is a member, at which level, and what it gives (used by the
pricing hooks, points earning, the API and the pages)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from quanzi.core.money import BP
from quanzi.membership.models import (
    MemberLevel,
    MemberProfile,
    Membership,
    MembershipPlan,
    MembershipStatus,
)
from quanzi.orders.hooks import NO_TERMS, MemberTerms


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def membership_active(*, user_id: int, now=None) -> Membership | None:
    now = now or timezone.now()
    return (
        Membership.objects.select_related("plan")
        .filter(user_id=user_id, status=MembershipStatus.ACTIVE, expires_at__gt=now)
        .first()
    )


def growth_of(*, user_id: int) -> int:
    growth = MemberProfile.objects.filter(user_id=user_id).values_list("growth", flat=True).first()
    return growth or 0


def level_for(*, growth: int) -> MemberLevel | None:
    return MemberLevel.objects.filter(min_growth__lte=growth).order_by("-min_growth").first()


def levels_all() -> QuerySet[MemberLevel]:
    return MemberLevel.objects.order_by("min_growth", "id")


def plans_active() -> QuerySet[MembershipPlan]:
    return MembershipPlan.objects.filter(is_active=True).order_by("price", "id")


def points_multiplier_bp(*, user_id: int) -> int:
    """The points multiplier of the user's level, or of its plan when that is higher."""
    level = level_for(growth=growth_of(user_id=user_id))
    multiplier = level.points_multiplier_bp if level else BP
    membership = membership_active(user_id=user_id)
    if membership is not None:
        multiplier = max(multiplier, membership.plan.points_multiplier_bp)
    return multiplier


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Checkout asks this once per order: one statement written out, because the ORM spends
# more CPU composing these nested subqueries than PostgreSQL spends running them.
_TERMS_SQL = f"""
SELECT
  (SELECT l.discount_bp FROM {_table(MemberLevel)} l
    WHERE l.min_growth <= COALESCE(
      (SELECT p.growth FROM {_table(MemberProfile)} p WHERE p.user_id = %s), 0)
    ORDER BY l.min_growth DESC LIMIT 1),
  (SELECT pl.free_shipping FROM {_table(Membership)} m
    JOIN {_table(MembershipPlan)} pl ON pl.id = m.plan_id
    WHERE m.user_id = %s AND m.status = %s AND m.expires_at > %s
    ORDER BY m.id LIMIT 1)
"""


def member_terms(user) -> MemberTerms:
    """The pricing hook: what the user's membership gives at checkout, in one query.

    A SKU's price for the user is the best of its member price (active paid members)
    and the level discount (never below the supply price); free shipping comes with an
    active plan that has it.
    """
    user_id = _user_id(user)
    if user_id is None:
        return NO_TERMS
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(_TERMS_SQL, [user_id, user_id, MembershipStatus.ACTIVE, now])
        row = cursor.fetchone()
    discount_bp, plan_ships_free = row[0] or 0, row[1]
    is_member = plan_ships_free is not None
    if not is_member and not discount_bp:
        return NO_TERMS

    def price(sku) -> int | None:
        prices = []
        if is_member and sku.member_price is not None:
            prices.append(sku.member_price)
        if discount_bp:
            discounted = sku.price - sku.price * discount_bp // BP
            prices.append(max(discounted, min(sku.supply_price, sku.price)))
        return min(prices) if prices else None

    return MemberTerms(price=price, free_shipping=bool(plan_ships_free))


def level_out(level: MemberLevel) -> dict[str, Any]:
    return {
        "id": level.pk,
        "name": level.name,
        "min_growth": level.min_growth,
        "discount_bp": level.discount_bp,
        "points_multiplier_bp": level.points_multiplier_bp,
    }


def plan_out(plan: MembershipPlan) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "name": plan.name,
        "price": plan.price,
        "duration_days": plan.duration_days,
        "points_multiplier_bp": plan.points_multiplier_bp,
        "free_shipping": plan.free_shipping,
        "monthly_coupon_template_id": plan.monthly_coupon_template_id,
        "is_active": plan.is_active,
        "product_id": plan.product_id,
        "sku_id": plan.sku_id,
        "created_at": plan.created_at,
    }


def membership_state(*, user) -> dict[str, Any]:
    """``{level, growth, next_level, plan: {id, name, expires_at, …} | null}``."""
    user_id = user.pk
    growth = growth_of(user_id=user_id)
    level = level_for(growth=growth)
    upcoming = MemberLevel.objects.filter(min_growth__gt=growth).order_by("min_growth").first()
    membership = membership_active(user_id=user_id)
    plan = None
    if membership is not None:
        plan = {
            "id": membership.plan_id,
            "name": membership.plan.name,
            "started_at": membership.started_at,
            "expires_at": membership.expires_at,
            "free_shipping": membership.plan.free_shipping,
            "points_multiplier_bp": membership.plan.points_multiplier_bp,
        }
    return {
        "level": level_out(level) if level else None,
        "growth": growth,
        "next_level": (
            {**level_out(upcoming), "growth_needed": upcoming.min_growth - growth}
            if upcoming
            else None
        ),
        "plan": plan,
    }
