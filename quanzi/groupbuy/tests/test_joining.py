"""Who may open and join which group, the product page's open groups and the share page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.core.errors import Conflict
from quanzi.groupbuy.channel import GroupChannel, places_taken, slot_release, slot_take
from quanzi.groupbuy.models import Group, GroupCampaign, GroupMember
from quanzi.groupbuy.services import group_join, groups_expire_due
from quanzi.orders.models import Order


def forming_group(make_user, make_campaign, peach_sku, flow, **campaign):
    leader = make_user(nickname="团长")
    campaign = make_campaign(**campaign)
    placed = flow.open(leader, campaign, peach_sku)
    return leader, campaign, placed["group_id"]


def test_refusals_when_joining(make_user, make_campaign, peach_sku, flow, later):
    leader, campaign, group_id = forming_group(
        make_user, make_campaign, peach_sku, flow, group_size=2
    )
    assert flow.join(leader, group_id, peach_sku, expect=409)["code"] == "own_group"
    bea = make_user()
    flow.join(bea, group_id, peach_sku, pay=False)
    assert flow.join(bea, group_id, peach_sku, expect=409)["code"] == "already_joined"
    assert flow.join(make_user(), group_id, peach_sku, expect=409)["code"] == "group_full"
    bea_order = Order.objects.get(user=bea)
    flow.pay(bea, bea_order.pk)
    assert Group.objects.get(pk=group_id).status == "succeeded"
    assert flow.join(make_user(), group_id, peach_sku, expect=409)["code"] == "group_closed"
    assert flow.join(make_user(), 999_999, peach_sku, expect=404)["code"] == "group_not_found"
    # Every refusal left nothing behind.
    assert Order.objects.count() == 2
    assert SKU.objects.get(pk=peach_sku.pk).stock == 98


def test_failed_and_expired_groups_cannot_be_joined(
    make_user, make_campaign, peach_sku, flow, later
):
    _, campaign, failing = forming_group(make_user, make_campaign, peach_sku, flow)
    # Expired but not swept yet: already closed to newcomers.
    Group.objects.filter(pk=failing).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = flow.join(make_user(), failing, peach_sku, expect=409)
    assert answer["code"] == "group_closed"
    groups_expire_due()
    assert Group.objects.get(pk=failing).status == "failed"
    assert flow.join(make_user(), failing, peach_sku, expect=409)["code"] == "group_closed"


def test_campaign_outside_its_window_opens_no_group(
    operator, make_user, make_campaign, peach_sku, flow
):
    soon = make_campaign(starts_at=(timezone.now() + timedelta(hours=1)).isoformat())
    answer = flow.open(make_user(), soon, peach_sku, expect=409)
    assert answer["code"] == "campaign_not_active"
    GroupCampaign.objects.filter(pk=soon["id"]).update(
        starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1)
    )
    assert flow.open(make_user(), soon, peach_sku, expect=409)["code"] == "campaign_not_active"
    assert not Order.objects.exists()


def test_ended_campaign_keeps_its_forming_groups_joinable(
    operator, make_user, make_campaign, peach_sku, flow
):
    _, campaign, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=2)
    operator.api.post(f"/admin/group-campaigns/{campaign['id']}/end")
    assert flow.open(make_user(), campaign, peach_sku, expect=409)["code"] == "campaign_not_active"
    flow.join(make_user(), group_id, peach_sku)
    assert Group.objects.get(pk=group_id).status == "succeeded"


def test_per_user_limit_holds_across_groups(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(per_user_limit=3)
    buyer = make_user()
    assert flow.open(buyer, campaign, peach_sku, qty=4, expect=409)["code"] == "limit_exceeded"
    flow.open(buyer, campaign, peach_sku, qty=2)
    other = flow.open(make_user(), campaign, peach_sku)
    answer = flow.join(buyer, other["group_id"], peach_sku, qty=2, expect=409)
    assert answer["code"] == "limit_exceeded" and answer["detail"] == {"limit": 3, "held": 2}
    flow.join(buyer, other["group_id"], peach_sku, qty=1)


def test_campaign_allotment_runs_out(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(stock=3)
    flow.open(make_user(), campaign, peach_sku, qty=2)
    answer = flow.open(make_user(), campaign, peach_sku, qty=2, expect=409)
    assert answer["code"] == "out_of_stock"
    assert SKU.objects.get(pk=peach_sku.pk).stock == 98  # the refused order took nothing


def test_group_orders_take_one_item_of_the_deal(
    make_user, make_campaign, make_product, peach_sku, flow
):
    campaign = make_campaign()
    orange = make_product(title="赣南脐橙").skus.get()
    answer = flow.open(make_user(), campaign, orange, expect=422)
    assert answer["code"] == "sku_not_in_campaign"
    missing = flow.open(make_user(), {"id": 999_999}, peach_sku, expect=404)
    assert missing["code"] == "campaign_not_found"
    bad = flow.open(make_user(), campaign, peach_sku, qty=0, expect=422)
    assert bad["code"] == "validation_error"


def test_coupons_points_and_commission_follow_the_campaign(
    make_user, make_campaign, peach_sku, flow
):
    campaign = make_campaign()
    buyer = make_user()
    assert (
        flow.open(buyer, campaign, peach_sku, points=100, expect=422)["code"]
        == "points_not_allowed"
    )
    assert (
        flow.open(buyer, campaign, peach_sku, coupon_id=1, expect=422)["code"]
        == "coupon_not_allowed"
    )
    placed = flow.open(buyer, campaign, peach_sku, pay=False)
    assert Order.objects.get(pk=placed["order_id"]).commission_enabled is False


def test_commission_enabled_campaign_marks_its_orders(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(commission_enabled=True, accepts_points=True, accepts_coupons=True)
    placed = flow.open(make_user(), campaign, peach_sku, pay=False)
    assert Order.objects.get(pk=placed["order_id"]).commission_enabled is True


def test_same_idempotency_key_opens_one_group(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign()
    buyer = make_user()
    headers = {"Idempotency-Key": "open-1"}
    first = flow.open(buyer, campaign, peach_sku, pay=False, headers=headers)
    again = flow.open(buyer, campaign, peach_sku, pay=False, headers=headers)
    assert again == first
    assert Group.objects.count() == 1 and Order.objects.count() == 1
    clash = flow.open(buyer, campaign, peach_sku, qty=2, pay=False, headers=headers, expect=409)
    assert clash["code"] == "idempotency_key_reused"


def test_product_page_lists_open_groups_strangers_can_join(
    anon, make_user, make_campaign, peach, peach_sku, flow
):
    campaign = make_campaign()
    almost = flow.open(make_user(nickname="快满"), campaign, peach_sku)
    flow.join(make_user(), almost["group_id"], peach_sku)
    fresh = flow.open(make_user(nickname="刚开"), campaign, peach_sku)
    flow.open(make_user(), campaign, peach_sku, pay=False)  # pending: not listed

    page = anon.get(f"/products/{peach.pk}").json()
    listed = [g["group_id"] for g in page["open_groups"]]
    assert listed == [almost["group_id"], fresh["group_id"]]  # fewest missing first
    first = page["open_groups"][0]
    assert first["missing"] == 1 and first["leader"]["nickname"] == "快满"
    assert first["group_price"] == 3990
    assert first["share_url"] == f"{settings.PUBLIC_URL}/g/{almost['group_id']}"
    assert page["extras"]["group_deal"]["id"] == campaign["id"]

    stranger = make_user()
    flow.join(stranger, first["group_id"], peach_sku)
    assert Group.objects.get(pk=almost["group_id"]).status == "succeeded"
    listed = [g["group_id"] for g in anon.get(f"/products/{peach.pk}").json()["open_groups"]]
    assert listed == [fresh["group_id"]]


def test_share_page_data(make_user, make_campaign, peach_sku, flow, anon):
    from quanzi.groupbuy.selectors import group_share_data

    leader, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=4)
    leader.avatar = "/media/a.png"
    leader.save(update_fields=["avatar"])
    friend = make_user(nickname="朋友")
    flow.join(friend, group_id, peach_sku)
    waiting = make_user()
    flow.join(waiting, group_id, peach_sku, pay=False)

    data = group_share_data(group_id=group_id, viewer=None)
    assert data["avatars"][:2] == ["/media/a.png", ""]
    assert [m["paid"] for m in data["members"]] == [True, True, False]
    assert data["missing"] == 2 and data["free_places"] == 1
    assert 0 < data["seconds_left"] <= 86_400
    assert data["share_url"].endswith(f"/g/{group_id}")
    assert data["viewer"] == {"joined": False, "can_join": True, "reason": None}
    assert group_share_data(group_id=group_id, viewer=leader)["viewer"]["reason"] == "own_group"
    assert group_share_data(group_id=group_id, viewer=friend)["viewer"] == {
        "joined": True,
        "can_join": False,
        "reason": "already_joined",
    }
    # The API shows the same to a signed-in viewer.
    assert friend.api.get(f"/groups/{group_id}").json()["viewer"]["joined"] is True
    mine = friend.api.get("/me/groups").json()["items"]
    assert [g["id"] for g in mine] == [group_id]


def test_orders_of_an_unfinished_group_may_not_ship(make_user, make_campaign, peach_sku, flow):
    _, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow)
    order = Order.objects.get(channel="group", channel_ref=str(group_id))
    assert order.status == "grouping"
    assert GroupChannel().may_ship(order) is False


def test_same_idempotency_key_joins_once(make_user, make_campaign, peach_sku, flow):
    _, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=3)
    bea = make_user()
    headers = {"Idempotency-Key": "join-1"}
    first = flow.join(bea, group_id, peach_sku, pay=False, headers=headers)
    again = flow.join(bea, group_id, peach_sku, pay=False, headers=headers)
    assert again["order_id"] == first["order_id"]
    assert GroupMember.objects.filter(user=bea).count() == 1
    assert places_taken(Group.objects.get(pk=group_id)) == 2


def test_a_join_that_fails_gives_its_place_back_at_once(
    make_user, make_campaign, peach_sku, flow, make_address
):
    _, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=2)
    bea, stranger = make_user(), make_user()
    body = {"sku_id": peach_sku.pk, "qty": 1, "address_id": make_address(stranger).pk}
    refused = bea.api.post(f"/groups/{group_id}/join", body)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_address"
    group = Group.objects.get(pk=group_id)
    assert places_taken(group) == 1
    assert list(GroupMember.objects.filter(user=bea).values_list("status", flat=True)) == [
        "released"
    ]
    # The last place is still there for the next buyer, and for bea herself.
    flow.join(bea, group_id, peach_sku)
    assert Group.objects.get(pk=group_id).status == "succeeded"


def test_an_order_never_takes_a_hold_that_was_given_up(make_user, make_campaign, peach_sku, flow):
    _, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=2)
    bea = make_user()
    hold = slot_take(group_id=group_id, user_id=bea.pk, sku_id=peach_sku.pk)
    assert flow.join(make_user(), group_id, peach_sku, expect=409)["code"] == "group_full"
    assert slot_release(member_id=hold.pk)
    with pytest.raises(Conflict) as refused:
        group_join(
            user=bea,
            group_id=group_id,
            sku_id=peach_sku.pk,
            qty=1,
            address_id=flow.address(bea),
            slot_id=hold.pk,
        )
    assert refused.value.code == "group_full"
    assert not Order.objects.filter(user=bea).exists()
    assert SKU.objects.get(pk=peach_sku.pk).stock == 99
