"""Distribution fixtures: people with their own addresses (risk control treats shared
addresses as related accounts), referrer chains, paying, settling and refunding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from quanzi.accounts.services import address_create, referrer_bind
from quanzi.core.platform_settings import settings_update
from quanzi.distribution.tests.payout_gateways import alipay, wechat  # noqa: F401 - fixtures
from quanzi.orders import refunds
from quanzi.orders.channels import Channel
from quanzi.orders.models import Order
from quanzi.orders.services import order_confirm_receipt, order_place, order_settle, order_ship
from quanzi.payments.services import payment_create, sandbox_complete


class NoCommissionChannel(Channel):
    """A selling mechanic that switches commissions off (as group campaigns may)."""

    name = "test_nocomm"

    def price(self, ctx):
        super().price(ctx)
        ctx.commission_enabled = False


def own_address(user):
    return address_create(
        user=user,
        data={
            "name": user.nickname,
            "phone": f"139{user.pk:08d}",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": f"文三路 {user.pk} 号",
        },
    )


@pytest.fixture
def dist_settings(db):
    def apply(**fields):
        return settings_update(patch={"distribution": fields})

    return apply


@pytest.fixture
def people(make_user):
    """``people(n)`` makes n users; ``people(n, chain=True)`` binds each to the one before
    (people[0] is the top of the chain)."""

    def make(n: int, *, chain: bool = False):
        users = [make_user(nickname=f"人{i}") for i in range(n)]
        if chain:
            for upline, user in zip(users, users[1:], strict=False):
                with transaction.atomic():
                    assert referrer_bind(user=user, referrer=upline, source="test")
        return users

    return make


@pytest.fixture
def pay(db):
    """Place and pay an order in-process; returns the paid ``Order``."""

    def run(user, items, *, share_token: str = "", channel: str = "normal", extra=None):
        address = user.addresses.filter(is_deleted=False).first() or own_address(user)
        order = order_place(
            user=user,
            items=[{"sku_id": sku.pk, "qty": qty} for sku, qty in items],
            address_id=address.pk,
            share_token=share_token,
            channel=channel,
            extra=extra,
        )
        payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=user)
        return Order.objects.get(pk=order.pk)

    return run


def settle(order: Order) -> Order:
    """Ship, confirm and settle once the after-sales window has passed."""
    order.refresh_from_db()
    if order.status != "completed":
        complete(order)
    assert order_settle(order_id=order.pk, now=order.after_sales_ends_at + timedelta(seconds=1))
    order.refresh_from_db()
    return order


def complete(order: Order) -> Order:
    order_ship(order_id=order.pk, carrier="顺丰", tracking_no="SF1")
    order_confirm_receipt(order_id=order.pk, user=order.user)
    order.refresh_from_db()
    return order


def refund(order: Order, operator, lines: list[tuple[int, int]] | None = None):
    """Refund lines [(line_id, qty)] (None = everything left); the operator's way works
    before and after settlement."""
    refund = refunds.refund_operator_create(
        order_id=order.pk,
        lines=[{"line_id": line_id, "qty": qty} for line_id, qty in lines] if lines else None,
        reason="test",
        operator=operator,
    )
    refund.refresh_from_db()
    assert refund.status == "succeeded", refund.last_error
    order.refresh_from_db()
    return refund
