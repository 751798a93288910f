"""A group join asks risk control before a slot is taken: the leader's own other account
is refused, a group filling with fresh accounts tied to each other (刷单) is held, and
strangers join as before."""

from __future__ import annotations

from quanzi.accounts.services import address_create
from quanzi.groupbuy.models import GroupMember
from quanzi.orders.models import Order


def test_the_leaders_other_account_cannot_join_its_group(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(group_size=3)
    leader, second = make_user(), make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    place = {"name": "李四", "phone": leader.phone, "province": "浙江省", "city": "杭州市"}
    place |= {"district": "余杭区", "detail": "良睦路 9 号"}
    flow.addresses[second.pk] = address_create(user=second, data=place).pk

    refused = flow.join(second, group_id, peach_sku, expect=403)

    assert refused["code"] == "risk_denied"
    assert refused["detail"]["reason"] == "same_phone"
    assert refused["message"] == "this join was refused by risk control"
    assert not Order.objects.filter(user=second).exists()
    assert GroupMember.objects.filter(group_id=group_id).count() == 1


def test_a_group_filled_by_fresh_accounts_on_one_ip_is_held_until_approved(
    make_user, make_campaign, peach_sku, flow, operator
):
    campaign = make_campaign(group_size=4)
    leader = make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    ring = [make_user(), make_user()]  # made today, on one home connection
    home = {"X-Forwarded-For": "122.224.5.7"}
    flow.join(ring[0], group_id, peach_sku, headers=home)

    held = flow.join(ring[1], group_id, peach_sku, headers=home, expect=403)

    assert held["code"] == "risk_held" and held["detail"]["reason"] == "fresh_ring"
    assert GroupMember.objects.filter(group_id=group_id).count() == 2
    event_id = held["detail"]["risk_event_id"]
    assert operator.api.post(f"/admin/risk-events/{event_id}/approve", {}).status_code == 200
    flow.join(ring[1], group_id, peach_sku, headers=home)
    assert GroupMember.objects.filter(group_id=group_id).count() == 3


def test_strangers_join_a_group_as_before(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(group_size=3)
    leader, a, b = make_user(), make_user(), make_user()
    group_id = flow.open(leader, campaign, peach_sku)["group_id"]
    flow.join(a, group_id, peach_sku, headers={"X-Forwarded-For": "36.110.9.1"})
    flow.join(b, group_id, peach_sku, headers={"X-Forwarded-For": "36.110.9.2"})
    assert Order.objects.get(user=b).status in ("to_ship", "paid", "grouping")
