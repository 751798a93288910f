"""Fixtures of the supplier portal: suppliers with a login and a product each, and
orders that are paid through the sandbox like a client would."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quanzi.payments.tests.standin import local_network_only
from quanzi.storefront.tests.browser import browser, new_desktop, new_phone  # noqa: F401
from quanzi.supply.tests.standin import CUSTOMER, KEY, SALT, Kuaidi100StandIn

NOTIFY = "/api/v1/logistics/notify/kuaidi100"


@pytest.fixture
def make_supplier(make_user, make_product):
    from quanzi.catalog.services import supplier_create

    def make(name="鲜果直采基地", *, price=3000, supply_price=1200, stock=100, title="脐橙 5kg"):
        user = make_user(roles=("supplier",), nickname=name)
        supplier = supplier_create(name=name, user_id=user.pk)
        product = make_product(
            price=price,
            supply_price=supply_price,
            stock=stock,
            title=title,
            supplier_id=supplier.pk,
        )
        user.supplier = supplier
        user.sku = product.skus.get()
        return user

    return make


@pytest.fixture
def supplier(make_supplier):
    return make_supplier()


@pytest.fixture
def rival(make_supplier):
    return make_supplier("北方粮油", price=5000, supply_price=3000, title="大米 10kg")


@pytest.fixture
def paid_order(make_address):
    """Place and pay an order of ``items`` [(sku, qty)] for ``user``; returns the Order."""
    from quanzi.orders.models import Order
    from quanzi.orders.services import order_place
    from quanzi.payments.services import payment_create, sandbox_complete

    def run(user, items):
        address = make_address(user)
        order = order_place(
            user=user,
            items=[{"sku_id": sku.pk, "qty": qty} for sku, qty in items],
            address_id=address.pk,
        )
        payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=user)
        return Order.objects.get(pk=order.pk)

    return run


def settle(order):
    """Confirm receipt and settle once the after-sales window has passed."""
    from quanzi.orders.services import order_confirm_receipt, order_settle

    order.refresh_from_db()
    if order.status != "completed":
        order_confirm_receipt(order_id=order.pk, user=order.user)
        order.refresh_from_db()
    assert order_settle(order_id=order.pk, now=order.after_sales_ends_at + timedelta(seconds=1))
    order.refresh_from_db()
    return order


@pytest.fixture
def kuaidi100(settings, monkeypatch):
    stand_in = Kuaidi100StandIn()
    with local_network_only(monkeypatch) as refused, stand_in.running():
        settings.QUANZI_TRACKING_PROVIDER = "kuaidi100"
        settings.QUANZI_KUAIDI100_CUSTOMER = CUSTOMER
        settings.QUANZI_KUAIDI100_KEY = KEY
        settings.QUANZI_KUAIDI100_SALT = SALT
        settings.QUANZI_KUAIDI100_BASE_URL = stand_in.url
        settings.QUANZI_TRACKING_CALLBACK_URL = "https://shop.example.com" + NOTIFY
        yield stand_in
    assert not refused, f"tried to reach {refused}"
