"""Real parallel buyers on PostgreSQL: the last units are sold exactly once."""

import pytest
from django.db import connection

from quanzi.catalog.models import SKU
from quanzi.core.testing import race
from quanzi.ledger.checks import run_checks
from quanzi.orders.models import Order
from quanzi.orders.services import order_place
from quanzi.payments.services import payment_create, sandbox_complete

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel clients are tested on PostgreSQL")


def _in_parallel(n, work):
    return race([lambda i=i: work(i) for i in range(n)])


def test_many_buyers_for_the_last_units(make_user, make_product, make_address):
    sku = make_product(stock=5).skus.get()
    buyers = [make_user() for _ in range(16)]
    addresses = [make_address(user) for user in buyers]

    def buy(i):
        order = order_place(
            user=buyers[i], items=[{"sku_id": sku.pk, "qty": 1}], address_id=addresses[i].pk
        )
        payment = payment_create(order_id=order.pk, user=buyers[i], gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=buyers[i])
        return "bought"

    results = _in_parallel(len(buyers), buy)
    assert results.count("bought") == 5, results
    assert results.count("out_of_stock") == 11, results
    assert SKU.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.filter(status="to_ship").count() == 5
    assert run_checks()[0] == []


def test_many_buyers_of_several_units_on_two_skus_never_oversell(
    make_user, make_product, make_address
):
    a = make_product(stock=7).skus.get()
    b = make_product(stock=4, title="赣南脐橙").skus.get()
    buyers = [make_user() for _ in range(12)]
    addresses = [make_address(user) for user in buyers]

    def buy(i):
        items = [{"sku_id": a.pk, "qty": 1 + i % 2}, {"sku_id": b.pk, "qty": 1}]
        if i % 3 == 0:
            items.reverse()  # lock order must not depend on the request's order
        order_place(user=buyers[i], items=items, address_id=addresses[i].pk)
        return "placed"

    results = _in_parallel(len(buyers), buy)
    assert all(r in ("placed", "out_of_stock") for r in results), results
    placed = Order.objects.all()
    sold_a = sum(line.qty for order in placed for line in order.lines.all() if line.sku_id == a.pk)
    sold_b = sum(line.qty for order in placed for line in order.lines.all() if line.sku_id == b.pk)
    assert sold_a + SKU.objects.get(pk=a.pk).stock == 7
    assert sold_b + SKU.objects.get(pk=b.pk).stock == 4
    assert sold_b <= 4 and results.count("placed") == placed.count()


def test_the_same_notification_delivered_in_parallel_pays_once(
    make_user, make_product, make_address
):
    from quanzi.payments.gateways import get_gateway
    from quanzi.payments.services import notification_handle

    user = make_user()
    sku = make_product(stock=3).skus.get()
    order = order_place(
        user=user, items=[{"sku_id": sku.pk, "qty": 1}], address_id=make_address(user).pk
    )
    payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
    note = get_gateway("sandbox").build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount
    )

    def deliver(i):
        notification_handle(gateway="sandbox", headers=note["headers"], body=note["body"].encode())
        return "ok"

    assert _in_parallel(8, deliver) == ["ok"] * 8
    from quanzi.ledger.models import JournalEntry

    assert JournalEntry.objects.filter(kind="payment", order_id=order.pk).count() == 1
    assert run_checks()[0] == []
