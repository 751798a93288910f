"""The pricing pipeline, for any mix of member price, level discount, coupon, points and
shipping: the lines add up to payable − shipping, no line is negative, the coupon only
touches the lines it covers, and an order is never free unless the operator allows it."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanzi.accounts.models import User
from quanzi.core.errors import QuanziError
from quanzi.core.platform_settings import settings_update
from quanzi.marketing.points import points_credit
from quanzi.marketing.services import coupon_grant, coupon_template_create
from quanzi.membership.models import MemberLevel, Membership
from quanzi.membership.services import plan_create
from quanzi.orders.models import OrderLine
from quanzi.orders.services import order_place

_phones = itertools.count(15_500_000_001)
REFUSALS = {"coupon_invalid", "invalid_points", "insufficient_points", "payable_too_low"}

line_st = st.fixed_dictionaries(
    {
        "price": st.integers(1, 50_000),
        "supply_share": st.integers(0, 10),
        "member_share": st.one_of(st.none(), st.integers(1, 10)),
        "qty": st.integers(1, 5),
        "covered": st.booleans(),
    }
)
coupon_st = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "kind": st.just("amount_off"),
            "amount": st.integers(1, 200_000),
            "threshold": st.integers(0, 100_000),
            "scoped": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("percent_off"),
            "percent_bp": st.integers(1, 9_999),
            "cap": st.one_of(st.none(), st.integers(1, 100_000)),
            "threshold": st.integers(0, 100_000),
            "scoped": st.booleans(),
        }
    ),
)
case_st = st.fixed_dictionaries(
    {
        "lines": st.lists(line_st, min_size=1, max_size=4),
        "member": st.booleans(),
        "level_discount_bp": st.sampled_from([0, 0, 500, 3000]),
        "coupon": coupon_st,
        "points": st.integers(0, 30_000),
        "max_share_bp": st.integers(0, 10_000),
        "allow_free": st.booleans(),
        "fee": st.sampled_from([0, 0, 800]),
        "free_above": st.sampled_from([0, 5000]),
    }
)


def _arrange(case, make_product, make_address):
    settings_update(
        patch={
            "points": {
                "max_deduct_share_bp": case["max_share_bp"],
                "allow_free_orders": case["allow_free"],
            },
            "shipping": {"fee": case["fee"], "free_above": case["free_above"]},
        }
    )
    phone = str(next(_phones))
    user = User.objects.create_user(phone, None, nickname="买家", invite_code=f"P{phone[-9:]}")
    address = make_address(user)
    points_credit(user_id=user.pk, amount=20_000, reason="test", key=f"prop:{user.pk}")
    if case["level_discount_bp"]:
        MemberLevel.objects.create(name="金卡", min_growth=0, discount_bp=case["level_discount_bp"])
    if case["member"]:
        plan = plan_create(name="年卡", price=9900, duration_days=365)
        now = timezone.now()
        Membership.objects.create(
            user=user, plan=plan, started_at=now, expires_at=now + timedelta(days=30)
        )
    skus, covered = [], []
    for spec in case["lines"]:
        price = spec["price"]
        member = spec["member_share"]
        sku = make_product(
            price=price,
            supply_price=price * spec["supply_share"] // 10,
            member_price=max(1, price * member // 10) if member else None,
        ).skus.get()
        skus.append((sku, spec["qty"]))
        if spec["covered"]:
            covered.append(sku.product_id)
    coupon_id, scope = None, None
    if case["coupon"] is not None:
        spec = dict(case["coupon"])
        scoped = spec.pop("scoped") and covered
        scope = covered if scoped else None
        data = {
            **spec,
            "name": "券",
            "total": 10,
            "per_user_limit": 1,
            "valid_days": 1,
            "scope": "products" if scoped else "all",
            "scope_ids": covered if scoped else [],
        }
        template = coupon_template_create(data=data)
        coupon_id = coupon_grant(user=user, template_id=template.pk, source="test").pk
    return user, address, skus, coupon_id, scope


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=case_st)
def test_lines_always_add_up_and_never_go_negative(make_product, make_address, case):
    with transaction.atomic():
        user, address, skus, coupon_id, scope = _arrange(case, make_product, make_address)
        try:
            with transaction.atomic():
                order = order_place(
                    user=user,
                    items=[{"sku_id": sku.pk, "qty": qty} for sku, qty in skus],
                    address_id=address.pk,
                    coupon_id=coupon_id,
                    points=case["points"],
                )
        except QuanziError as exc:
            assert exc.code in REFUSALS, exc
            transaction.set_rollback(True)
            return
        lines = list(OrderLine.objects.filter(order=order).order_by("id"))
        assert sum(line.paid for line in lines) == order.payable - order.shipping
        assert order.discount == order.total - sum(line.paid for line in lines)
        for line in lines:
            assert line.paid >= 0 and line.coupon_discount >= 0 and line.points_discount >= 0
            assert (
                line.paid
                == line.unit_price * line.qty - line.coupon_discount - line.points_discount
            )
            assert line.unit_price <= line.retail_price
            sku = next(s for s, _ in skus if s.pk == line.sku_id)
            if case["member"] and sku.member_price is not None:
                assert line.unit_price <= sku.member_price
            if scope is not None and line.product_id not in scope:
                assert line.coupon_discount == 0
        assert sum(line.points_discount for line in lines) == order.points_used * 1
        if not case["allow_free"]:
            assert order.payable > 0
        transaction.set_rollback(True)
