"""Friends' orders settling at the same moment grant each reward exactly once
(PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from quanzi.rewards.models import RewardGrant, RewardReferral

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


def test_parallel_first_orders_grant_every_reward_once(
    customer, operator, register, reward_campaign, sku, own_address
):
    from datetime import timedelta

    from quanzi.marketing.points import points_balance
    from quanzi.orders.models import Order
    from quanzi.orders.services import order_confirm_receipt, order_settle

    reward_campaign(needed=2, reward={"points": 100})
    orders = []
    for _ in range(6):
        friend = register(invite_code=customer.invite_code)
        address = own_address(friend)
        order = friend.api.post(
            "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
        ).json()
        pay = friend.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
        friend.api.post(f"/payments/sandbox/{pay['payment_id']}/complete")
        operator.api.post(
            f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF"}
        )
        order_confirm_receipt(order_id=order["id"], user=friend)
        orders.append((friend, order["id"]))
    assert not RewardReferral.objects.filter(status="qualified").exists()  # not settled yet

    barrier = threading.Barrier(len(orders))
    errors = []

    def settle(friend, order_id):
        try:
            ends = Order.objects.get(pk=order_id).after_sales_ends_at
            barrier.wait()
            assert order_settle(order_id=order_id, now=ends + timedelta(seconds=1))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=o) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert RewardReferral.objects.filter(status="qualified").count() == 6
    grants = list(RewardGrant.objects.order_by("seq"))
    assert [g.seq for g in grants] == [1, 2, 3]
    assert sorted(p for g in grants for p in g.people) == sorted(f.pk for f, _ in orders)
    assert points_balance(user_id=customer.pk) == 300
