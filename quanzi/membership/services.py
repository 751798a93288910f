"""Membership writes: levels, plans, buying and activating a plan, growth, sweeps.

A plan is bought as an order of the ``membership`` channel (see ``channel.py``): the
normal payment flow, no address, no coupon, no points, no commission. Paying activates
the membership (or extends it by the plan's duration when it is still running); right
after the payment commits, the virtual order is shipped and completed, so it settles
like any order (all of it platform revenue). A refund takes away the unused paid time
that order bought.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.models import SKU, Product
from quanzi.catalog.services import product_create
from quanzi.core.errors import Invalid, NotFound, QuanziError
from quanzi.core.logging import get_logger
from quanzi.core.money import BP
from quanzi.core.sql import counter_add, insert_once
from quanzi.core.tasks import enqueue
from quanzi.membership.models import (
    GrowthEntry,
    MemberLevel,
    MemberProfile,
    Membership,
    MembershipPeriod,
    MembershipPlan,
    MembershipStatus,
    MonthlyCouponGrant,
)
from quanzi.orders.models import Order
from quanzi.orders.models import Status as S

log = get_logger("quanzi.membership")

CHANNEL = "membership"
MONTH_DAYS = 30
PLAN_STOCK = 10_000_000


def _int(data: dict[str, Any], key: str, *, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(
            "invalid_value", f"{key} must be a whole number in [{low}, {high}]", {"field": key}
        )
    return value


# --- levels ------------------------------------------------------------------------


def _level_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 40:
            raise Invalid(
                "invalid_level", "a level needs a name of at most 40 characters", {"field": "name"}
            )
        fields["name"] = name
    for key, low, high in (
        ("min_growth", 0, 10**12),
        ("discount_bp", 0, 9_000),
        ("points_multiplier_bp", 0, 100_000),
    ):
        value = _int(data, key, low=low, high=high)
        if value is not None:
            fields[key] = value
    if not partial and "min_growth" not in fields:
        raise Invalid("invalid_level", "min_growth is required", {"field": "min_growth"})
    return fields


def level_create(*, data: dict[str, Any]) -> MemberLevel:
    fields = _level_fields(data, partial=False)
    if MemberLevel.objects.filter(min_growth=fields["min_growth"]).exists():
        raise Invalid(
            "level_exists", "a level starts at this growth already", {"field": "min_growth"}
        )
    return MemberLevel.objects.create(**fields)


@transaction.atomic
def level_update(*, level_id: int, data: dict[str, Any]) -> MemberLevel:
    level = MemberLevel.objects.select_for_update().filter(pk=level_id).first()
    if level is None:
        raise NotFound("level_not_found", "no such member level")
    fields = _level_fields(data, partial=True)
    if (
        "min_growth" in fields
        and MemberLevel.objects.filter(min_growth=fields["min_growth"])
        .exclude(pk=level_id)
        .exists()
    ):
        raise Invalid(
            "level_exists", "a level starts at this growth already", {"field": "min_growth"}
        )
    for key, value in fields.items():
        setattr(level, key, value)
    level.save()
    return level


def level_delete(*, level_id: int) -> None:
    if MemberLevel.objects.filter(pk=level_id).delete()[0] == 0:
        raise NotFound("level_not_found", "no such member level")


# --- plans -------------------------------------------------------------------------


def _check_template(template_id: int | None) -> None:
    if template_id is None:
        return
    from quanzi.marketing.models import CouponTemplate

    if not CouponTemplate.objects.filter(pk=template_id).exists():
        raise Invalid(
            "invalid_coupon_template",
            "no such coupon template",
            {"field": "monthly_coupon_template_id"},
        )


@transaction.atomic
def plan_create(
    *,
    name: str,
    price: int,
    duration_days: int,
    points_multiplier_bp: int = BP,
    free_shipping: bool = True,
    monthly_coupon_template_id: int | None = None,
) -> MembershipPlan:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise Invalid(
            "invalid_plan", "a plan needs a name of at most 40 characters", {"field": "name"}
        )
    data = {
        "price": price,
        "duration_days": duration_days,
        "points_multiplier_bp": points_multiplier_bp,
    }
    _int(data, "price", low=1, high=100_000_000)
    _int(data, "duration_days", low=1, high=3660)
    _int(data, "points_multiplier_bp", low=0, high=100_000)
    _check_template(monthly_coupon_template_id)
    product = product_create(
        title=f"会员 · {name}",
        description="membership plan",
        skus=[{"name": name, "price": price, "supply_price": 0, "stock": PLAN_STOCK}],
        is_virtual=True,
    )
    return MembershipPlan.objects.create(
        name=name,
        price=price,
        duration_days=duration_days,
        points_multiplier_bp=points_multiplier_bp,
        free_shipping=bool(free_shipping),
        monthly_coupon_template_id=monthly_coupon_template_id,
        product=product,
        sku=product.skus.get(),
    )


@transaction.atomic
def plan_update(*, plan_id: int, data: dict[str, Any]) -> MembershipPlan:
    """Change a plan for future purchases (bought periods keep what they bought)."""
    plan = MembershipPlan.objects.select_for_update().filter(pk=plan_id).first()
    if plan is None:
        raise NotFound("plan_not_found", "no such membership plan")
    if data.get("name") is not None:
        name = str(data["name"]).strip()
        if not name or len(name) > 40:
            raise Invalid(
                "invalid_plan", "a plan needs a name of at most 40 characters", {"field": "name"}
            )
        plan.name = name
    for key, low, high in (
        ("price", 1, 100_000_000),
        ("duration_days", 1, 3660),
        ("points_multiplier_bp", 0, 100_000),
    ):
        value = _int(data, key, low=low, high=high)
        if value is not None:
            setattr(plan, key, value)
    for flag in ("free_shipping", "is_active"):
        if data.get(flag) is not None:
            setattr(plan, flag, bool(data[flag]))
    if "monthly_coupon_template_id" in data:
        _check_template(data["monthly_coupon_template_id"])
        plan.monthly_coupon_template_id = data["monthly_coupon_template_id"]
    plan.save()
    SKU.objects.filter(pk=plan.sku_id).update(price=plan.price, name=plan.name)
    Product.objects.filter(pk=plan.product_id).update(title=f"会员 · {plan.name}")
    return plan


def plan_buy(*, user: User, plan_id: int) -> Order:
    """Place the order for a plan; paying it (like any order) makes the user a member."""
    from quanzi.orders.services import order_place

    plan = MembershipPlan.objects.filter(pk=plan_id, is_active=True).first()
    if plan is None:
        raise NotFound("plan_not_found", "no such membership plan")
    return order_place(
        user=user,
        items=[{"sku_id": plan.sku_id, "qty": 1}],
        channel=CHANNEL,
        extra={"plan_id": plan.pk},
    )


# --- activation and fulfilment ----------------------------------------------------


def _lock_membership(user_id: int, plan: MembershipPlan) -> Membership:
    now = timezone.now()
    try:
        with transaction.atomic():
            Membership.objects.get_or_create(
                user_id=user_id,
                defaults={
                    "plan": plan,
                    "status": MembershipStatus.EXPIRED,
                    "started_at": now,
                    "expires_at": now,
                },
            )
    except IntegrityError:
        pass
    return Membership.objects.select_for_update().get(user_id=user_id)


def membership_activate(*, order: Order) -> MembershipPeriod:
    """Apply a paid plan order (in the payment transaction, order locked). Idempotent."""
    period = MembershipPeriod.objects.filter(order_id=order.pk).first()
    if period is not None:
        return period
    plan = MembershipPlan.objects.get(pk=int(order.channel_ref))
    membership = _lock_membership(order.user_id, plan)
    now = timezone.now()
    running = membership.status == MembershipStatus.ACTIVE and membership.expires_at > now
    starts_at = membership.expires_at if running else now
    ends_at = starts_at + timedelta(days=plan.duration_days)
    if not running:
        membership.started_at = now
    membership.plan = plan
    membership.status = MembershipStatus.ACTIVE
    membership.expires_at = ends_at
    membership.save()
    period = MembershipPeriod.objects.create(
        user_id=order.user_id,
        plan=plan,
        order_id=order.pk,
        days=plan.duration_days,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    enqueue("quanzi.membership.services.membership_order_fulfil", order_id=order.pk)
    if plan.monthly_coupon_template_id:
        enqueue("quanzi.membership.services.monthly_coupon_grant_for", user_id=order.user_id)
    log.info(
        "membership activated",
        extra={"user_id": order.user_id, "order_id": order.pk, "expires_at": ends_at.isoformat()},
    )
    return period


def membership_order_fulfil(*, order_id: int) -> Order | None:
    """Ship and complete a paid plan order (nothing to deliver). Idempotent."""
    from quanzi.orders.services import order_complete, order_ship

    order = Order.objects.filter(pk=order_id, channel=CHANNEL).first()
    if order is None:
        return None
    if order.status == S.TO_SHIP:
        order_ship(order_id=order_id, carrier="virtual", tracking_no=f"MEMBERSHIP-{order_id}")
        order.refresh_from_db()
    if order.status == S.SHIPPED:
        order = order_complete(order_id=order_id, note="membership activated")
    return order


def membership_orders_fulfil(*, batch: int = 500) -> int:
    """Sweep: finish plan orders whose after-payment task did not run (crash, restart)."""
    ids = list(
        Order.objects.filter(channel=CHANNEL, status__in=[S.TO_SHIP, S.SHIPPED])
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    done = 0
    for order_id in ids:
        try:
            membership_order_fulfil(order_id=order_id)
            done += 1
        except QuanziError:
            log.warning("membership order not fulfilled", extra={"order_id": order_id})
    return done


def membership_revoke(*, order: Order) -> None:
    """A plan order was refunded in full: take away the paid time it bought and that is
    not used yet (in the refund transaction)."""
    period = (
        MembershipPeriod.objects.select_for_update()
        .filter(order_id=order.pk, revoked_at__isnull=True)
        .first()
    )
    if period is None:
        return
    membership = _lock_membership(order.user_id, period.plan)
    now = timezone.now()
    unused = period.ends_at - max(now, period.starts_at)
    if unused > timedelta(0):
        membership.expires_at = max(now, membership.expires_at - unused)
    if membership.expires_at <= now:
        membership.status = MembershipStatus.EXPIRED
    membership.save()
    period.revoked_at = now
    period.save(update_fields=["revoked_at"])
    log.info("membership period revoked", extra={"user_id": order.user_id, "order_id": order.pk})


def memberships_expire(*, now=None) -> int:
    """Sweep: memberships past their paid time become expired (idempotent)."""
    now = now or timezone.now()
    return Membership.objects.filter(status=MembershipStatus.ACTIVE, expires_at__lte=now).update(
        status=MembershipStatus.EXPIRED
    )


# --- monthly coupons ---------------------------------------------------------------


def monthly_coupon_grant_for(*, user_id: int, now=None) -> MonthlyCouponGrant | None:
    """Grant this month's member coupon to one user, once per 30 days of membership."""
    from quanzi.marketing.services import coupon_grant

    now = now or timezone.now()
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("plan")
            .filter(user_id=user_id, status=MembershipStatus.ACTIVE, expires_at__gt=now)
            .first()
        )
        if membership is None or not membership.plan.monthly_coupon_template_id:
            return None
        month = max(0, (now - membership.started_at).days // MONTH_DAYS)
        grant, created = MonthlyCouponGrant.objects.get_or_create(
            user_id=user_id,
            run_started_at=membership.started_at,
            month=month,
            defaults={"plan": membership.plan},
        )
        if not created:
            return grant
        user = User.objects.get(pk=user_id)
        try:
            with transaction.atomic():
                coupon = coupon_grant(
                    user=user,
                    template_id=membership.plan.monthly_coupon_template_id,
                    source="membership",
                )
            grant.coupon_id = coupon.pk
        except QuanziError as exc:
            grant.note = exc.code[:40]
            log.warning(
                "member coupon not granted",
                extra={"user_id": user_id, "month": month, "code": exc.code},
            )
        grant.save(update_fields=["coupon_id", "note"])
        return grant


def monthly_coupons_grant(*, now=None, batch: int = 1000) -> int:
    """Sweep: every active member whose plan has a monthly coupon gets this month's."""
    now = now or timezone.now()
    user_ids = list(
        Membership.objects.filter(
            status=MembershipStatus.ACTIVE,
            expires_at__gt=now,
            plan__monthly_coupon_template_id__isnull=False,
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)[:batch]
    )
    granted = 0
    for user_id in user_ids:
        before = MonthlyCouponGrant.objects.filter(user_id=user_id).count()
        monthly_coupon_grant_for(user_id=user_id, now=now)
        granted += MonthlyCouponGrant.objects.filter(user_id=user_id).count() - before
    return granted


# --- growth ------------------------------------------------------------------------


def _growth_add(*, user_id: int, order_id: int, amount: int, key: str, refund_id=None) -> None:
    """Two statements: the entry once per key, then the profile's counter (row-locked)."""
    if amount == 0:
        return
    entry = GrowthEntry(
        user_id=user_id, order_id=order_id, refund_id=refund_id, amount=amount, key=key
    )
    if insert_once(entry, unique="key"):
        counter_add(MemberProfile, pk=user_id, field="growth", amount=amount)


def growth_record(*, order: Order) -> None:
    """An order was paid: its goods money (after discounts, without shipping) is growth."""
    if order.channel == CHANNEL:
        return
    _growth_add(
        user_id=order.user_id,
        order_id=order.pk,
        amount=max(0, order.payable - order.shipping),
        key=f"paid:{order.pk}",
    )


def growth_reverse(*, order: Order, refund) -> None:
    """A refund succeeded: the goods money it returned is no longer growth."""
    recorded = sum(GrowthEntry.objects.filter(order_id=order.pk).values_list("amount", flat=True))
    amount = min(max(0, refund.amount - refund.shipping), recorded)
    _growth_add(
        user_id=order.user_id,
        order_id=order.pk,
        amount=-amount,
        key=f"refund:{refund.pk}",
        refund_id=refund.pk,
    )
