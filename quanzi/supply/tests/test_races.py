"""Real parallel clients on PostgreSQL: two suppliers ship the last lines of one order at
once (the order ships exactly once, after both); payouts racing for one payable never
pay more than is owed; the same push delivered by parallel callbacks is stored once."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, OrderEvent
from quanzi.supply.models import Shipment, SupplierPayout
from quanzi.supply.tests.conftest import settle

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def test_two_suppliers_shipping_at_once_ship_the_order_once(supplier, rival, customer, paid_order):
    for _ in range(5):
        order = paid_order(customer, [(supplier.sku, 1), (rival.sku, 1)])
        answers = race(
            [
                lambda order=order: (
                    supplier.api.post(
                        f"/supplier/orders/{order.pk}/ship",
                        {"carrier": "SF", "tracking_no": "SF1234567890123"},
                    ).status_code
                ),
                lambda order=order: (
                    rival.api.post(
                        f"/supplier/orders/{order.pk}/ship",
                        {"carrier": "JD", "tracking_no": "JDVA12345678901"},
                    ).status_code
                ),
            ]
        )
        assert answers == [201, 201]
        assert Order.objects.get(pk=order.pk).status == "shipped"
        assert OrderEvent.objects.filter(order=order, to_status="shipped").count() == 1
        assert Shipment.objects.filter(order=order).count() == 2


def test_racing_payouts_never_pay_more_than_is_owed(supplier, customer, operator, paid_order):
    order = paid_order(customer, [(supplier.sku, 3)])  # supply 3 × 12.00 = 36.00 owed
    supplier.api.post(
        f"/supplier/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"}
    )
    settle(order)
    url = f"/admin/suppliers/{supplier.supplier.pk}/payouts"
    answers = race(
        [
            lambda n=n: (
                operator.api.post(url, {"amount": 1000, "reference": f"BANK-{n}"}).status_code
            )
            for n in range(8)
        ]
    )
    assert sorted(answers) == [201, 201, 201, 409, 409, 409, 409, 409]
    assert SupplierPayout.objects.count() == 3
    assert -balance(f"supplier_payable:{supplier.supplier.pk}") == 600


def test_the_same_push_from_parallel_callbacks_is_stored_once(
    supplier, customer, paid_order, kuaidi100
):
    from django.test import Client

    from quanzi.supply.models import TrackingEvent
    from quanzi.supply.tests.conftest import NOTIFY

    order = paid_order(customer, [(supplier.sku, 1)])
    supplier.api.post(
        f"/supplier/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"}
    )
    for when, code in [("2026-12-04 09:00:00", "1"), ("2026-12-05 11:00:00", "3")]:
        kuaidi100.scan("shunfeng", "SF1234567890123", when, code, "扫描")
    body = kuaidi100.push_body("shunfeng", "SF1234567890123")
    answers = race(
        [
            lambda: (
                Client()
                .post(NOTIFY, data=body, content_type="application/x-www-form-urlencoded")
                .status_code
            )
            for _ in range(8)
        ]
    )
    assert answers == [200] * 8
    assert TrackingEvent.objects.count() == 2
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert OrderEvent.objects.filter(order=order, to_status="delivered").count() == 1
