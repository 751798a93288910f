"""The settlement sweep settles a chunk of orders in one go: the commissions, the
earners' settled sales, their ranks and the ledger come out as if each order had been
settled alone, for a fixed number of queries whatever the chunk's size."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from quanzi.accounts.services import referrer_bind
from quanzi.distribution.models import Commission, DistributorProfile
from quanzi.distribution.tests.conftest import complete, refund
from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import Account
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.orders.services import orders_settle_due


def _due(orders):
    for order in orders:
        complete(order)
    return max(Order.objects.get(pk=o.pk).after_sales_ends_at for o in orders) + timedelta(
        seconds=1
    )


def test_one_sweep_settles_many_orders_exactly(operator, people, pay, make_product):
    top, mid, *buyers = people(5, chain=False)
    referrer_bind(user=mid, referrer=top, source="test")
    for buyer in buyers:
        referrer_bind(user=buyer, referrer=mid, source="test")
    # mid reaches 店长 only on the sales of the whole chunk together (3 × 1990 + 2 × 990
    # − 990 refunded = 6960 ≥ 6000), not on any one order.
    assert (
        operator.api.post(
            "/admin/distributor-ranks", {"name": "店长", "level": 1, "min_sales": 6_000}
        ).status_code
        == 201
    )
    big = make_product(price=1990, supply_price=1000).skus.get()
    small = make_product(price=990, supply_price=500).skus.get()
    orders = [pay(buyer, [(big, 1)]) for buyer in buyers]
    orders += [pay(buyers[0], [(small, 1)]), pay(buyers[1], [(small, 1)])]
    refund(orders[-1], operator)  # refunded in full before settlement: earns nothing
    now = _due(orders[:-1])

    assert orders_settle_due(now=now) == 4  # the refunded order is not completed

    for order in orders[:-1]:
        assert sorted(Commission.objects.filter(order=order).values_list("level", "status")) == [
            (1, "available"),
            (2, "available"),
        ]
    nets = Commission.objects.filter(order__in=orders[:-1])
    assert all(c.settled_amount == c.amount and c.settled_at == now for c in nets)
    assert Commission.objects.get(order=orders[-1], level=1).status == "reversed"
    mid_profile = DistributorProfile.objects.select_related("rank").get(user=mid)
    assert mid_profile.sales == 3 * 1990 + 990
    assert mid_profile.rank.name == "店长"
    # The cached balances equal the postings, and both equal the commissions earned.
    for user in (mid, top):
        code = f"user:{user.pk}:commission_available"
        earned = sum(c.settled_amount for c in nets if c.beneficiary_id == user.pk)
        assert balance(code) == Account.objects.get(code=code).balance == -earned
    assert run_checks()[0] == []
    assert orders_settle_due(now=now) == 0  # nothing is settled twice


def test_a_bigger_chunk_costs_no_more_queries(people, pay, make_product):
    top, mid, *buyers = people(8, chain=False)
    referrer_bind(user=mid, referrer=top, source="test")
    for buyer in buyers:
        referrer_bind(user=buyer, referrer=mid, source="test")
    sku = make_product(price=1990, supply_price=1000).skus.get()
    orders = [pay(buyer, [(sku, 1)]) for buyer in buyers for _ in range(2)]
    now = _due(orders)
    orders_settle_due(now=now, batch=1)  # the accounts get their ids (cached per process)

    def settle(batch):
        with CaptureQueriesContext(connection) as ctx:
            assert orders_settle_due(now=now, batch=batch) == batch
        return len(ctx.captured_queries)

    assert settle(2) == settle(9)  # 12 orders: 1 + 2 + 9
    assert run_checks()[0] == []
