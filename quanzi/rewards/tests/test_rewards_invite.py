"""Invite rewards (好友裂变): granted once, only for real first orders of new people that
settled (their after-sales window is over), never for a sign-up alone, never for the
inviter's own other accounts."""

from __future__ import annotations

from quanzi.rewards.models import RewardGrant, RewardReferral


def _points(user) -> int:
    from quanzi.marketing.points import points_balance

    return points_balance(user_id=user.pk)


def _items(user, **match) -> list[dict]:
    items = user.api.get("/me/rewards").json()["items"]
    return [i for i in items if all(i.get(k) == v for k, v in match.items())]


def test_an_invitees_first_settled_order_rewards_the_inviter_once(
    customer, register, reward_campaign, complete_order, own_address
):
    campaign = reward_campaign(reward={"points": 100})
    friend = register(invite_code=customer.invite_code, nickname="小李")

    # Signing up alone earns nothing under an order trigger: the friend is pending.
    assert _points(customer) == 0
    [pending] = _items(customer, source="referral")
    assert (pending["status"], pending["reason"]) == ("pending", "waiting_first_order")
    assert pending["person"] == {"user_id": friend.pk, "nickname": "小李"}

    complete_order(friend, address=own_address(friend))

    assert _points(customer) == 100
    [grant] = _items(customer, source="grant")
    assert (grant["status"], grant["points"], grant["people"]) == ("granted", 100, [friend.pk])
    assert grant["campaign_id"] == campaign["id"]
    assert _items(customer, source="referral") == []  # counted: no longer pending
    mine = customer.api.get("/me/rewards").json()
    assert mine["granted_points"] == 100

    # A second order of the same friend changes nothing.
    complete_order(friend, address=own_address(friend))
    assert _points(customer) == 100
    assert RewardGrant.objects.count() == 1


def test_a_paid_but_not_completed_order_is_not_enough(
    customer, register, reward_campaign, sku, own_address
):
    reward_campaign()
    friend = register(invite_code=customer.invite_code)
    address = own_address(friend)
    order = friend.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    payment = friend.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    friend.api.post(f"/payments/sandbox/{payment['payment_id']}/complete")
    assert friend.api.get(f"/orders/{order['id']}").json()["status"] == "to_ship"
    assert _points(customer) == 0
    assert RewardReferral.objects.get().status == "pending"


def test_a_completed_order_inside_its_after_sales_window_is_not_enough(
    customer, register, reward_campaign, complete_order, own_address
):
    reward_campaign(reward={"points": 100})
    friend = register(invite_code=customer.invite_code)
    complete_order(friend, address=own_address(friend), settle=False)
    assert _points(customer) == 0
    assert RewardReferral.objects.get().status == "pending"


def test_a_first_order_refunded_inside_the_after_sales_window_earns_nothing(
    operator, customer, register, reward_campaign, complete_order, own_address
):
    """The friend buys, receives, and sends it back within the window: the inviter gets
    nothing for it; the friend's next order that is kept is the one that counts."""
    from datetime import timedelta

    from quanzi.orders import refunds
    from quanzi.orders.models import Order
    from quanzi.orders.services import orders_settle_due

    reward_campaign(reward={"points": 100})
    friend = register(invite_code=customer.invite_code)
    bought = complete_order(friend, address=own_address(friend), settle=False)
    refund = refunds.refund_operator_create(
        order_id=bought["id"], lines=None, reason="退货", operator=operator
    )
    refund.refresh_from_db()
    assert refund.status == "succeeded", refund.last_error
    ends = Order.objects.get(pk=bought["id"]).after_sales_ends_at
    orders_settle_due(now=ends + timedelta(seconds=1))
    assert _points(customer) == 0
    assert RewardReferral.objects.get().status == "pending"
    assert not RewardGrant.objects.exists()

    complete_order(friend, address=own_address(friend))
    assert _points(customer) == 100
    assert RewardReferral.objects.get().order_id != bought["id"]


def test_a_sign_up_alone_may_earn_nothing(operator, customer):
    """Points and coupons are money at checkout: paying them for recruitment alone is
    refused, for invite and share campaigns alike."""
    for kind in ("invite", "share"):
        answer = operator.api.post(
            "/admin/reward-campaigns",
            {"kind": kind, "trigger": "register", "needed": 1, "reward": {"points": 30}},
        )
        assert answer.status_code == 422, answer.content
        assert answer.json()["code"] == "recruitment_reward_forbidden"
        assert "first_order" in answer.json()["message"]
    assert operator.api.get("/admin/reward-campaigns").json()["items"] == []


def test_people_who_signed_up_before_the_campaign_do_not_count(
    customer, register, reward_campaign, complete_order, own_address
):
    early = register(invite_code=customer.invite_code)
    reward_campaign()
    complete_order(early, address=own_address(early))
    assert _points(customer) == 0
    assert not RewardReferral.objects.exists()


def test_the_inviters_other_account_on_the_same_device_earns_nothing(
    customer, register, reward_campaign, complete_order, own_address
):
    customer.device_id = "my-phone"
    customer.save(update_fields=["device_id"])
    reward_campaign()
    twin = register(invite_code=customer.invite_code, device_id="my-phone")
    complete_order(twin, address=own_address(twin))
    assert _points(customer) == 0
    [denied] = _items(customer, source="referral")
    assert (denied["status"], denied["reason"]) == ("denied", "same_device")


def test_the_inviters_other_account_shipping_to_its_address_earns_nothing(
    customer, register, reward_campaign, complete_order, own_address
):
    home = own_address(customer, detail="莫干山路 99 号")
    reward_campaign()
    twin = register(invite_code=customer.invite_code)
    complete_order(twin, address=own_address(twin, detail=home.detail))
    assert _points(customer) == 0
    assert RewardReferral.objects.get().reason == "same_address"


def test_the_inviters_other_account_using_its_phone_earns_nothing(
    customer, register, reward_campaign, complete_order, own_address
):
    reward_campaign()
    twin = register(invite_code=customer.invite_code)
    complete_order(twin, address=own_address(twin, phone=customer.phone))
    assert _points(customer) == 0
    assert RewardReferral.objects.get().reason == "same_phone"


def test_a_device_counts_once_even_when_it_re_registers(
    customer, register, reward_campaign, complete_order, own_address
):
    reward_campaign()
    first = register(invite_code=customer.invite_code, device_id="friend-phone")
    complete_order(first, address=own_address(first))
    again = register(invite_code=customer.invite_code, device_id="friend-phone")
    complete_order(again, address=own_address(again))
    assert _points(customer) == 100
    assert RewardReferral.objects.get(person=again).reason == "device_already_counted"


def test_every_n_people_earn_one_reward_up_to_the_cap(customer, reward_campaign, bring):
    reward_campaign(needed=2, max_per_user=2, reward={"points": 50})
    bring(customer)
    assert _points(customer) == 0
    [progress] = _items(customer, source="progress")
    assert (progress["status"], progress["reason"]) == ("pending", "needs_more_people")
    for _ in range(5):
        bring(customer)
    assert _points(customer) == 100  # 6 people, 2 per reward, at most 2 rewards
    mine = customer.api.get("/me/rewards").json()
    assert mine["progress"][0]["counted"] == 6 and mine["progress"][0]["rewards"] == 2
    assert _items(customer, source="progress") == []


def test_a_coupon_reward(customer, reward_campaign, bring):
    from quanzi.marketing.models import Coupon
    from quanzi.marketing.services import coupon_template_create

    template = coupon_template_create(
        data={
            "name": "邀请有礼",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 0,
            "scope": "all",
            "valid_days": 30,
            "total": 100,
            "per_user_limit": 1,
        }
    )
    reward_campaign(reward={"coupon_template_id": template.pk})
    bring(customer)
    bring(customer)
    coupons = Coupon.objects.filter(user=customer, template=template)
    assert coupons.count() == 2  # a reward is not limited by the template's per-user limit
    grant = RewardGrant.objects.order_by("pk").first()
    assert grant.coupon_id == coupons.order_by("pk").first().pk


def test_a_burst_of_rewards_is_held_until_an_operator_approves(
    operator, customer, reward_campaign, bring
):
    from quanzi.core.platform_settings import settings_update

    reward_campaign(reward={"points": 10})
    bring(customer)
    settings_update(patch={"risk": {"burst_max": 1}})
    bring(customer)
    assert _points(customer) == 10
    [held] = _items(customer, source="grant", status="held")
    assert held["reason"] == "burst"

    assert (
        customer.api.post(
            f"/admin/reward-grants/{held['id']}/review", {"approve": True}
        ).status_code
        == 403
    )
    approved = operator.api.post(f"/admin/reward-grants/{held['id']}/review", {"approve": True})
    assert approved.status_code == 200 and approved.json()["status"] == "granted"
    assert _points(customer) == 20
    again = operator.api.post(f"/admin/reward-grants/{held['id']}/review", {"approve": True})
    assert again.status_code == 409
    assert _points(customer) == 20


def test_reward_campaigns_are_validated(operator, customer):
    base = {"kind": "share", "trigger": "first_order", "needed": 1, "reward": {"points": 1}}
    for bad in (
        {"kind": "gift"},
        {"trigger": "visit"},
        {"needed": 0},
        {"reward": {}},
        {"reward": {"points": 0}},
    ):
        answer = operator.api.post("/admin/reward-campaigns", {**base, **bad})
        assert answer.status_code == 422, (bad, answer.content)
    assert customer.api.post("/admin/reward-campaigns", base).status_code == 403


def test_a_person_held_by_risk_counts_once_an_operator_approves(
    operator, customer, register, reward_campaign, bring
):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"risk": {"device_accounts_max": 1}})
    reward_campaign(reward={"points": 15})
    register(device_id="busy-phone")  # someone else already signed up on this device
    friend = bring(customer, device_id="busy-phone")
    assert _points(customer) == 0
    [held] = _items(customer, source="referral")
    assert (held["status"], held["reason"]) == ("held", "shared_device")
    assert held["person"]["user_id"] == friend.pk

    approved = operator.api.post(f"/admin/reward-referrals/{held['id']}/review", {"approve": True})
    assert approved.status_code == 200 and approved.json()["status"] == "qualified"
    assert _points(customer) == 15
    again = operator.api.post(f"/admin/reward-referrals/{held['id']}/review", {"approve": False})
    assert again.status_code == 409


def test_a_closed_sign_up_campaign_pays_nothing_more_even_on_review(operator, customer):
    """A campaign that rewarded sign-ups alone (closed when the rule came in) may have
    held items left: approving them pays nothing."""
    from django.utils import timezone

    from quanzi.rewards.models import RewardCampaign

    campaign = RewardCampaign.objects.create(
        kind="invite",
        trigger="register",
        reward_points=30,
        is_active=False,
        starts_at=timezone.now(),
    )
    held = RewardGrant.objects.create(
        campaign=campaign, user=customer, seq=1, status="held", points=30
    )

    answer = operator.api.post(f"/admin/reward-grants/{held.pk}/review", {"approve": True})

    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "recruitment_reward_forbidden"
    assert _points(customer) == 0
    refused = operator.api.post(f"/admin/reward-grants/{held.pk}/review", {"approve": False})
    assert refused.status_code == 200 and refused.json()["status"] == "denied"
