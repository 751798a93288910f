"""Share rewards (分享有礼): people who register through one's links count once their
first paid order settles (a sign-up alone earns nothing)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.rewards.invites import rewards_scan_signups
from quanzi.rewards.models import RewardGrant


def _points(user) -> int:
    from quanzi.marketing.points import points_balance

    return points_balance(user_id=user.pk)


def _link(sharer, sku) -> str:
    from quanzi.social.services import share_create

    return share_create(sharer=sharer, target="product", target_id=sku.product_id).token


def _scan() -> int:
    return rewards_scan_signups(now=timezone.now() + timedelta(minutes=1))


def _buy(person, complete_order, own_address) -> None:
    complete_order(person, address=own_address(person))


def test_people_registering_through_a_share_link_reward_the_sharer(
    customer, register, reward_campaign, sku, complete_order, own_address
):
    reward_campaign(kind="share", needed=2, reward={"points": 40})
    token = _link(customer, sku)
    first = register(share_token=token)
    loner = register()  # came on its own: brings nothing to anyone
    assert _scan() == 1
    _buy(first, complete_order, own_address)
    _buy(loner, complete_order, own_address)
    assert _points(customer) == 0
    second = register(share_token=token)
    assert _scan() == 1
    assert _points(customer) == 0  # signed up: not yet
    _buy(second, complete_order, own_address)
    assert _points(customer) == 40
    assert _scan() == 0  # the scan is idempotent
    assert _points(customer) == 40
    [grant] = customer.api.get("/me/rewards").json()["items"]
    assert grant["status"] == "granted" and len(grant["people"]) == 2


def test_under_an_order_trigger_shared_sign_ups_wait_for_their_first_order(
    customer, register, reward_campaign, sku, complete_order, own_address
):
    reward_campaign(kind="share", trigger="first_order", reward={"points": 70})
    token = _link(customer, sku)
    friend = register(share_token=token)
    _scan()
    assert _points(customer) == 0
    items = customer.api.get("/me/rewards").json()["items"]
    assert [(i["status"], i["reason"]) for i in items] == [("pending", "waiting_first_order")]
    complete_order(friend, address=own_address(friend))
    assert _points(customer) == 70
    assert RewardGrant.objects.get().people == [friend.pk]


def test_an_invite_campaign_does_not_pay_for_share_sign_ups_and_vice_versa(
    customer, make_user, register, reward_campaign, sku, complete_order, own_address
):
    reward_campaign(kind="invite", reward={"points": 5})
    token = _link(customer, sku)
    shared = register(share_token=token)
    _scan()
    _buy(shared, complete_order, own_address)
    assert _points(customer) == 0
    other = make_user()
    reward_campaign(kind="share", reward={"points": 7})
    invited = register(invite_code=other.invite_code)
    _scan()
    _buy(invited, complete_order, own_address)
    assert _points(other) == 5  # the invite campaign only


def test_the_sharers_own_device_earns_nothing(
    customer, register, reward_campaign, sku, complete_order, own_address
):
    customer.device_id = "shared-device"
    customer.save(update_fields=["device_id"])
    reward_campaign(kind="share", reward={"points": 9})
    twin = register(share_token=_link(customer, sku), device_id="shared-device")
    _scan()
    _buy(twin, complete_order, own_address)
    assert _points(customer) == 0
    [item] = customer.api.get("/me/rewards").json()["items"]
    assert (item["status"], item["reason"]) == ("denied", "same_device")
