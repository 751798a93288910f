"""A group lives until its ``expires_at`` and not a second longer: money that arrives for
a place after the window (a late notification) does not complete the group; it is
returned in full, and the group fails as its time says."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.groupbuy.models import Group, GroupMember
from quanzi.groupbuy.services import groups_expire_due
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways import get_gateway
from quanzi.payments.models import Payment


def deliver(anon, payment_id):
    payment = Payment.objects.get(pk=payment_id)
    note = get_gateway("sandbox").build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount
    )
    return anon.client.post(
        "/api/v1/payments/notify/sandbox",
        data=note["body"],
        content_type="application/json",
        headers=note["headers"],
    )


def test_money_for_a_place_after_the_groups_window_is_returned(
    anon, make_user, make_campaign, peach_sku, flow, later
):
    campaign = make_campaign(group_size=2)
    leader, friend = make_user(), make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    friend_order = flow.join(friend, group_id, peach_sku, pay=False)["order_id"]
    payment_id = flow.start_payment(friend, friend_order)
    # The window closes; the sweeps have not run yet when the money arrives.
    gone = timezone.now() - timedelta(seconds=1)
    Group.objects.filter(pk=group_id).update(expires_at=gone)
    Order.objects.filter(pk=friend_order).update(expires_at=gone)

    assert deliver(anon, payment_id).status_code == 200

    group = Group.objects.get(pk=group_id)
    assert group.status == "forming" and group.paid_count == 1
    assert GroupMember.objects.get(order_id=friend_order).status == "lost"
    refund = Refund.objects.get(order_id=friend_order)
    assert (
        refund.status == "succeeded" and refund.amount == Payment.objects.get(pk=payment_id).amount
    )
    assert groups_expire_due(now=later()) == 1
    assert Group.objects.get(pk=group_id).status == "failed"
    assert Order.objects.get(user=leader).status == "refunded"


def test_joining_or_paying_after_the_groups_window_is_refused(
    make_user, make_campaign, peach_sku, flow
):
    campaign = make_campaign(group_size=3)
    leader, friend, stranger = make_user(), make_user(), make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    friend_order = flow.join(friend, group_id, peach_sku, pay=False)["order_id"]
    # The friend's place is held no longer than the group lives.
    group = Group.objects.get(pk=group_id)
    assert Order.objects.get(pk=friend_order).expires_at <= group.expires_at
    gone = timezone.now() - timedelta(seconds=1)
    Group.objects.filter(pk=group_id).update(expires_at=gone)
    Order.objects.filter(pk=friend_order).update(expires_at=gone)

    late_pay = friend.api.post(f"/orders/{friend_order}/pay", {"gateway": "sandbox"})
    late_join = flow.join(stranger, group_id, peach_sku, pay=False, expect=409)

    assert late_pay.status_code == 409 and late_pay.json()["code"] == "payment_expired"
    assert late_join["code"] == "group_closed"
    assert not Payment.objects.filter(order_id=friend_order).exists()
