"""The documented lock order (docs/architecture.md, "Lock order") holds for group orders:
a payment that completes a group and a member's refund, run at once by real parallel
clients on PostgreSQL many times, never deadlock."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.groupbuy.models import Group
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.services import refund_execute, sandbox_complete

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 12


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def test_completing_payment_and_a_members_refund_never_deadlock(
    monkeypatch, make_user, operator, make_campaign, peach_sku, flow
):
    campaign = make_campaign(group_size=3, per_user_limit=1, stock=3 * ROUNDS)
    for _ in range(ROUNDS):
        leader, friend, last = make_user(), make_user(), make_user()
        group_id = flow.open(leader, campaign, peach_sku)["group_id"]
        friend_order = flow.join(friend, group_id, peach_sku)["order_id"]
        last_order = flow.join(last, group_id, peach_sku, pay=False)["order_id"]
        payment_id = flow.start_payment(last, last_order)
        # The friend's refund is approved; the gateway has not answered yet.
        asked = friend.api.post(f"/orders/{friend_order}/refunds", {"reason": "变卦了"})
        assert asked.status_code == 201, asked.content
        monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
        approved = operator.api.post(f"/admin/refunds/{asked.json()['id']}/approve")
        assert approved.status_code == 200, approved.content
        monkeypatch.setattr(SandboxGateway, "fail_refunds", False)

        outcomes = race(
            [
                lambda p=payment_id, u=last: sandbox_complete(payment_id=p, user=u) and "paid",
                lambda r=asked.json()["id"]: refund_execute(refund_id=r).status,
            ]
        )

        assert outcomes == ["paid", "succeeded"], outcomes
        group = Group.objects.get(pk=group_id)
        statuses = dict(
            Order.objects.filter(user__in=[leader, friend, last]).values_list("user", "status")
        )
        if group.status == "succeeded":  # the payment came first: the refund follows it
            assert statuses == {leader.pk: "to_ship", friend.pk: "refunded", last.pk: "to_ship"}
        else:  # the refund came first: the place was free again, the group is forming
            assert group.status == "forming" and group.paid_count == 2
    assert not Refund.objects.exclude(status="succeeded").exists()
