"""A failed group refunds each paid member on its own: one member whose order is still
busy with another refund (a second payment being returned, slow at the gateway) waits
for it alone, and everyone else gets their money back at once."""

from __future__ import annotations

from quanzi.groupbuy.models import Group
from quanzi.groupbuy.services import groups_expire_due, groups_refund_stragglers
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import Payment
from quanzi.payments.services import refunds_retry, sandbox_complete


def paid_twice(order_id: int, user) -> Refund:
    """A second payment captured for an already paid order: returned as "unapplied"."""
    order = Order.objects.get(pk=order_id)
    second = Payment.objects.create(
        order=order, gateway="sandbox", out_trade_no=f"QZSECOND{order_id}", amount=order.payable
    )
    sandbox_complete(payment_id=second.pk, user=user)
    return Refund.objects.get(payment=second, kind="unapplied")


def test_one_members_pending_refund_does_not_hold_up_the_others(
    monkeypatch, make_user, make_campaign, peach_sku, flow, later
):
    campaign = make_campaign(group_size=3)
    leader, friend = make_user(), make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    friend_order = flow.join(friend, group_id, peach_sku)["order_id"]
    monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
    slow = paid_twice(friend_order, friend)
    assert Refund.objects.get(pk=slow.pk).status == "processing"
    monkeypatch.setattr(SandboxGateway, "fail_refunds", False)

    assert groups_expire_due(now=later()) == 1

    assert Group.objects.get(pk=group_id).status == "failed"
    leader_order = Order.objects.get(user=leader)
    assert leader_order.status == "refunded"
    assert leader_order.refunded_amount == leader_order.payable
    # The friend's order waits for its own refund in flight, and is not forgotten.
    assert Order.objects.get(pk=friend_order).status == "grouping"

    refunds_retry(now=later())  # the second payment goes back
    assert groups_refund_stragglers() == 1
    friend = Order.objects.get(pk=friend_order)
    assert friend.status == "refunded" and friend.refunded_amount == friend.payable
    assert not Refund.objects.exclude(status="succeeded").exists()
