"""A member asks for their money back while the group is still forming."""

from __future__ import annotations

from quanzi.groupbuy.channel import places_taken
from quanzi.groupbuy.models import Group, GroupMember
from quanzi.groupbuy.services import groups_expire_due, groups_refund_stragglers
from quanzi.orders.models import Order, Refund


def ask_refund(user, order_id) -> int:
    response = user.api.post(f"/orders/{order_id}/refunds", {"reason": "不想要了"})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_refunded_member_frees_the_place_for_someone_else(
    operator, make_user, make_campaign, peach_sku, flow
):
    campaign = make_campaign(group_size=3)
    placed = flow.open(make_user(), campaign, peach_sku)
    quitter = make_user()
    joined = flow.join(quitter, placed["group_id"], peach_sku)
    refund_id = ask_refund(quitter, joined["order_id"])
    assert operator.api.post(f"/admin/refunds/{refund_id}/approve").status_code == 200

    assert Order.objects.get(pk=joined["order_id"]).status == "refunded"
    group = Group.objects.get(pk=placed["group_id"])
    assert group.status == "forming" and group.paid_count == 1 and places_taken(group) == 1
    assert GroupMember.objects.get(order_id=joined["order_id"]).status == "refunded"
    flow.join(make_user(), placed["group_id"], peach_sku)
    flow.join(make_user(), placed["group_id"], peach_sku)
    assert Group.objects.get(pk=placed["group_id"]).status == "succeeded"


def test_a_refund_turned_down_after_the_group_succeeded_leaves_the_order_to_ship(
    operator, make_user, make_campaign, peach_sku, flow
):
    campaign = make_campaign(group_size=2)
    leader = make_user()
    placed = flow.open(leader, campaign, peach_sku)
    leader_order = placed["order_id"]
    refund_id = ask_refund(leader, leader_order)
    flow.join(make_user(), placed["group_id"], peach_sku)  # the group fills meanwhile
    assert Group.objects.get(pk=placed["group_id"]).status == "succeeded"
    assert Order.objects.get(pk=leader_order).status == "refunding"

    response = operator.api.post(f"/admin/refunds/{refund_id}/reject", {"reason": "已成团"})
    assert response.status_code == 200
    assert Order.objects.get(pk=leader_order).status == "to_ship"


def test_a_failed_group_refunds_an_order_whose_own_refund_was_turned_down(
    operator, make_user, make_campaign, peach_sku, flow, later
):
    campaign = make_campaign()
    placed = flow.open(make_user(), campaign, peach_sku)
    member = make_user()
    joined = flow.join(member, placed["group_id"], peach_sku)
    refund_id = ask_refund(member, joined["order_id"])
    groups_expire_due(now=later())  # the member's refund is still being decided: left to it
    assert Order.objects.get(pk=joined["order_id"]).status == "refunding"
    assert Order.objects.get(pk=placed["order_id"]).status == "refunded"

    operator.api.post(f"/admin/refunds/{refund_id}/reject", {"reason": "no"})
    assert Order.objects.get(pk=joined["order_id"]).status == "grouping"
    assert groups_refund_stragglers() == 1
    order = Order.objects.get(pk=joined["order_id"])
    assert order.status == "refunded" and order.refunded_amount == order.payable
    assert Refund.objects.filter(order=order, status="succeeded").count() == 1
