"""Friend bargaining through the API: campaigns, helps, limits, buying, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.bargain.cuts import cuts_replay
from quanzi.bargain.models import Bargain, BargainCampaign, BargainHelp
from quanzi.bargain.services import bargains_expire
from quanzi.catalog.models import SKU
from quanzi.social.models import ShareLink


def _help_until_floor(bargain_id: int, make_user) -> list[dict]:
    answers = []
    for i in range(Bargain.objects.get(pk=bargain_id).helpers_target):
        answer = make_user(nickname=f"朋友{i}").api.post(f"/bargains/{bargain_id}/help")
        assert answer.status_code == 201, answer.content
        answers.append(answer.json())
    return answers


def test_campaign_rules_are_validated(operator, customer, make_product, make_campaign):
    sku = make_product(price=5_000).skus.get()
    base = {
        "sku_id": sku.pk,
        "start_price": 5_000,
        "floor_price": 100,
        "helpers_min": 2,
        "helpers_max": 4,
        "ttl_seconds": 3_600,
        "per_user_limit": 1,
        "stock": 5,
    }
    for bad in (
        {"floor_price": 5_000},  # floor must be below the start price
        {"start_price": 6_000},  # above the retail price
        {"helpers_min": 5},  # min above max
        {"floor_price": 4_998, "helpers_max": 3},  # 2 fen cannot feed 3 helpers
        {"buy_mode": "sometimes"},
    ):
        answer = operator.api.post("/admin/bargain-campaigns", {**base, **bad})
        assert answer.status_code == 422, (bad, answer.content)
        assert answer.json()["code"] in ("invalid_campaign", "validation_error")
    assert customer.api.post("/admin/bargain-campaigns", base).status_code == 403
    assert operator.api.post("/admin/bargain-campaigns", base).status_code == 201
    clash = operator.api.post("/admin/bargain-campaigns", base)
    assert clash.status_code == 409
    assert clash.json()["code"] == "campaign_overlap"


def test_friends_cut_exactly_to_the_floor_replayably(customer, make_user, make_campaign):
    campaign = make_campaign(start_price=10_000, floor_price=990, helpers_min=3, helpers_max=6)
    started = customer.api.post("/bargains", {"campaign_id": campaign["id"]})
    assert started.status_code == 201
    assert started.json()["current_price"] == 10_000
    bargain_id = started.json()["bargain_id"]
    bargain = Bargain.objects.get(pk=bargain_id)
    assert 3 <= bargain.helpers_target <= 6

    answers = _help_until_floor(bargain_id, make_user)

    prices = [a["current_price"] for a in answers]
    assert prices == sorted(prices, reverse=True) and prices[-1] == 990
    assert all(a["cut"] >= 1 for a in answers)
    assert sum(a["cut"] for a in answers) == 10_000 - 990
    assert answers[-1]["status"] == "floor_reached"
    expected = cuts_replay(
        seed=bargain.seed, start_price=10_000, floor_price=990, helpers=bargain.helpers_target
    )
    assert [a["cut"] for a in answers] == expected

    late = make_user().api.post(f"/bargains/{bargain_id}/help")
    assert late.status_code == 409 and late.json()["code"] == "bargain_closed"
    shown = customer.api.get(f"/bargains/{bargain_id}").json()
    assert shown["status"] == "floor_reached"
    assert shown["current_price"] == 990
    assert [h["cut"] for h in shown["helpers"]] == expected
    link = ShareLink.objects.get(token=shown["share_url"].rsplit("/", 1)[1])
    assert (link.sharer_id, link.target, link.target_id) == (customer.pk, "bargain", bargain_id)


def test_owner_cannot_help_itself_and_a_friend_helps_once(customer, make_user, make_campaign):
    campaign = make_campaign()
    bargain_id = customer.api.post("/bargains", {"campaign_id": campaign["id"]}).json()[
        "bargain_id"
    ]
    own = customer.api.post(f"/bargains/{bargain_id}/help")
    assert own.status_code == 422 and own.json()["code"] == "own_bargain"
    friend = make_user()
    assert friend.api.post(f"/bargains/{bargain_id}/help").status_code == 201
    again = friend.api.post(f"/bargains/{bargain_id}/help")
    assert again.status_code == 409 and again.json()["code"] == "already_helped"
    assert Bargain.objects.get(pk=bargain_id).helpers_count == 1


def test_a_helper_has_a_daily_help_limit_per_campaign(make_user, make_campaign, start_bargain):
    campaign = make_campaign(helps_per_day=2)
    bargains = [start_bargain(make_user(), campaign)["bargain_id"] for _ in range(3)]
    helper = make_user()
    assert helper.api.post(f"/bargains/{bargains[0]}/help").status_code == 201
    assert helper.api.post(f"/bargains/{bargains[1]}/help").status_code == 201
    third = helper.api.post(f"/bargains/{bargains[2]}/help")
    assert third.status_code == 409 and third.json()["code"] == "help_limit"
    assert Bargain.objects.get(pk=bargains[2]).helpers_count == 0


def test_attempts_per_user_are_limited(customer, make_campaign, start_bargain):
    campaign = make_campaign(per_user_limit=1)
    first = start_bargain(customer, campaign)
    running = customer.api.post("/bargains", {"campaign_id": campaign["id"]})
    assert running.status_code == 409 and running.json()["code"] == "bargain_in_progress"
    Bargain.objects.filter(pk=first["bargain_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bargains_expire() == 1
    again = customer.api.post("/bargains", {"campaign_id": campaign["id"]})
    assert again.status_code == 409 and again.json()["code"] == "attempts_exceeded"


def test_buying_at_the_current_price_pays_ships_and_settles(
    customer, operator, make_user, make_address, make_campaign, start_bargain, pay
):
    from quanzi.orders.services import orders_settle_due

    campaign = make_campaign(price=10_000, supply_price=3_000, stock=4, sku_stock=20)
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    cut = make_user().api.post(f"/bargains/{bargain_id}/help").json()
    address = make_address(customer)

    bought = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert bought.status_code == 201, bought.content
    order_id = bought.json()["order_id"]
    order = customer.api.get(f"/orders/{order_id}").json()
    assert order["channel"] == "bargain" and order["channel_ref"] == str(bargain_id)
    assert order["payable"] == cut["current_price"] == 10_000 - cut["cut"]
    assert order["lines"][0]["unit_price"] == cut["current_price"]
    assert BargainCampaign.objects.get(pk=campaign["id"]).stock == 3
    assert SKU.objects.get(pk=campaign["sku_id"]).stock == 19

    paid = pay(customer, order_id)
    assert paid["status"] == "to_ship"
    assert customer.api.get(f"/bargains/{bargain_id}").json()["status"] == "bought"
    again = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert again.status_code == 409 and again.json()["code"] == "bargain_closed"

    shipped = operator.api.post(
        f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF9"}
    )
    assert shipped.status_code == 200
    customer.api.post(f"/orders/{order_id}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1


def test_floor_only_campaign_refuses_to_sell_above_the_floor(
    customer, make_user, make_address, make_campaign, start_bargain
):
    campaign = make_campaign(buy_mode="floor_only", helpers_min=2, helpers_max=2)
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    address = make_address(customer)
    make_user().api.post(f"/bargains/{bargain_id}/help")
    early = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert early.status_code == 409 and early.json()["code"] == "floor_not_reached"
    make_user().api.post(f"/bargains/{bargain_id}/help")
    at_floor = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert at_floor.status_code == 201
    assert at_floor.json()["payable"] == 1_000


def test_a_pending_order_locks_the_price_and_cancelling_reopens(
    customer, make_user, make_address, make_campaign, start_bargain
):
    campaign = make_campaign(stock=1)
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    address = make_address(customer)
    order_id = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk}).json()[
        "order_id"
    ]
    assert customer.api.get(f"/bargains/{bargain_id}").json()["status"] == "ordered"
    helper = make_user()
    refused = helper.api.post(f"/bargains/{bargain_id}/help")
    assert refused.status_code == 409 and refused.json()["code"] == "bargain_closed"
    twice = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert twice.status_code == 409 and twice.json()["code"] == "bargain_ordered"
    assert BargainCampaign.objects.get(pk=campaign["id"]).stock == 0

    assert customer.api.post(f"/orders/{order_id}/cancel").status_code == 200
    assert customer.api.get(f"/bargains/{bargain_id}").json()["status"] == "open"
    assert BargainCampaign.objects.get(pk=campaign["id"]).stock == 1
    assert helper.api.post(f"/bargains/{bargain_id}/help").status_code == 201


def test_expiry_sweep_closes_bargains_once(
    customer, make_user, make_address, make_campaign, start_bargain
):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    make_user().api.post(f"/bargains/{bargain_id}/help")
    Bargain.objects.filter(pk=bargain_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    # Past the deadline it already reads as expired, before the sweep runs.
    assert customer.api.get(f"/bargains/{bargain_id}").json()["status"] == "expired"
    late = make_user().api.post(f"/bargains/{bargain_id}/help")
    assert late.status_code == 409 and late.json()["code"] == "bargain_closed"
    assert bargains_expire() == 1
    assert bargains_expire() == 0
    assert Bargain.objects.get(pk=bargain_id).status == "expired"
    address = make_address(customer)
    buy = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk})
    assert buy.status_code == 409 and buy.json()["code"] == "bargain_closed"


def test_expiry_leaves_a_pending_order_alone_and_cancel_then_expires(
    customer, make_address, make_campaign, start_bargain
):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    address = make_address(customer)
    order_id = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk}).json()[
        "order_id"
    ]
    Bargain.objects.filter(pk=bargain_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bargains_expire() == 0
    assert customer.api.post(f"/orders/{order_id}/cancel").status_code == 200
    assert Bargain.objects.get(pk=bargain_id).status == "expired"


def test_a_floor_of_zero_is_a_free_order_with_the_cost_booked_as_subsidy(
    customer, operator, make_user, make_address, make_campaign, start_bargain
):
    from quanzi.ledger.services import balance
    from quanzi.orders.services import orders_settle_due

    campaign = make_campaign(
        price=500, supply_price=200, start_price=500, floor_price=0, helpers_min=1, helpers_max=1
    )
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    cut = make_user().api.post(f"/bargains/{bargain_id}/help").json()
    assert cut == {"cut": 500, "current_price": 0, "status": "floor_reached", "new_user": False}
    address = make_address(customer)
    order_id = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk}).json()[
        "order_id"
    ]
    order = customer.api.get(f"/orders/{order_id}").json()
    assert order["payable"] == 0 and order["status"] == "to_ship"
    assert customer.api.get(f"/bargains/{bargain_id}").json()["status"] == "bought"
    operator.api.post(f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF1"})
    customer.api.post(f"/orders/{order_id}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1
    assert balance("marketing_subsidy") == 200
    assert balance("platform_revenue") == 0


@pytest.mark.parametrize("extra", [{"coupon_id": 1}, {"points": 100}])
def test_coupons_and_points_are_refused_unless_the_campaign_allows(
    customer, make_address, make_campaign, start_bargain, extra
):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    address = make_address(customer)
    answer = customer.api.post(f"/bargains/{bargain_id}/buy", {"address_id": address.pk, **extra})
    assert answer.status_code == 422
    assert answer.json()["code"] in ("coupon_not_allowed", "points_not_allowed")
    assert Bargain.objects.get(pk=bargain_id).status == "open"


def test_only_the_owner_buys(customer, make_user, make_address, make_campaign, start_bargain):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    stranger = make_user()
    answer = stranger.api.post(
        f"/bargains/{bargain_id}/buy", {"address_id": make_address(stranger).pk}
    )
    assert answer.status_code == 404
    shown = stranger.api.get(f"/bargains/{bargain_id}").json()
    assert shown["order_id"] is None


def test_a_helper_on_the_owners_device_is_refused_and_logged(
    customer, make_user, make_campaign, start_bargain
):
    from quanzi.risk.models import RiskEvent

    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    customer.device_id = "device-A"
    customer.save(update_fields=["device_id"])
    twin = make_user()
    twin.device_id = "device-A"
    twin.save(update_fields=["device_id"])
    refused = twin.api.post(f"/bargains/{bargain_id}/help")
    assert refused.status_code == 403
    assert refused.json()["code"] == "risk_denied"
    assert refused.json()["detail"]["reason"] == "same_device"
    assert Bargain.objects.get(pk=bargain_id).helpers_count == 0
    event = RiskEvent.objects.get(user_id=twin.pk)
    assert (event.kind, event.action, event.counterpart_id) == ("bargain_help", "deny", customer.pk)
    friend = make_user()
    assert friend.api.post(f"/bargains/{bargain_id}/help").status_code == 201
    assert RiskEvent.objects.get(user_id=friend.pk).action == "allow"


def _sign_up_through(share_url: str, make_user):
    from quanzi.social.services import share_register_attribute

    person = make_user()
    assert share_register_attribute(user=person, token=share_url.rsplit("/", 1)[1])
    return person


def test_a_brand_new_user_brought_by_the_bargains_link_cuts_bigger(
    customer, make_user, make_campaign, start_bargain
):
    from quanzi.bargain.cuts import cut_amount

    campaign = make_campaign(start_price=10_000, floor_price=0, helpers_min=10, helpers_max=10)
    started = start_bargain(customer, campaign)
    bargain = Bargain.objects.get(pk=started["bargain_id"])
    newcomer = _sign_up_through(started["share_url"], make_user)

    answer = newcomer.api.post(f"/bargains/{bargain.pk}/help").json()

    assert answer["new_user"] is True
    expected = cut_amount(
        seed=bargain.seed, k=1, remaining=10_000, helpers_left=10, boost_bp=20_000
    )
    assert answer["cut"] == expected
    assert expected == 2 * cut_amount(seed=bargain.seed, k=1, remaining=10_000, helpers_left=10)
    assert customer.api.get(f"/bargains/{bargain.pk}").json()["helpers"][0]["new_user"] is True


def test_old_customers_and_strangers_get_no_new_user_bonus(
    customer, make_user, make_campaign, start_bargain, buy, sku
):
    campaign = make_campaign()
    started = start_bargain(customer, campaign)
    bargain_id = started["bargain_id"]
    # Signed up through this bargain's link, but has paid an order since: not new.
    buyer = _sign_up_through(started["share_url"], make_user)
    buy(buyer, sku)
    # Brand new, but came on its own (no share): not brought by this bargain.
    stranger = make_user()
    # Brand new, brought by the link of ANOTHER bargain.
    other = start_bargain(make_user(), campaign)
    elsewhere = _sign_up_through(other["share_url"], make_user)
    for helper in (buyer, stranger, elsewhere):
        answer = helper.api.post(f"/bargains/{bargain_id}/help")
        assert answer.status_code == 201, answer.content
        assert answer.json()["new_user"] is False


def test_a_brand_new_helper_on_a_crowded_device_helps_without_the_bonus(
    customer, make_user, make_campaign, start_bargain
):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"risk": {"device_accounts_max": 1}})
    campaign = make_campaign()
    started = start_bargain(customer, campaign)
    newcomer = _sign_up_through(started["share_url"], make_user)
    for user in (newcomer, make_user()):
        user.device_id = "farm"
        user.save(update_fields=["device_id"])
    answer = newcomer.api.post(f"/bargains/{started['bargain_id']}/help")
    assert answer.status_code == 201
    assert answer.json()["new_user"] is False
    help_ = BargainHelp.objects.get(helper=newcomer)
    assert (help_.boost_bp, help_.risk_reason) == (10_000, "shared_device")


def test_share_page_data_shows_progress_countdown_and_what_the_viewer_may_do(
    customer, make_user, make_campaign, start_bargain
):
    from quanzi.bargain.selectors import bargain_share_data

    campaign = make_campaign(start_price=10_000, floor_price=2_000)
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    friend = make_user(nickname="阿强")
    cut = friend.api.post(f"/bargains/{bargain_id}/help").json()["cut"]

    for_owner = bargain_share_data(bargain_id, viewer=customer)
    assert for_owner["is_owner"] and for_owner["can_buy"] and not for_owner["can_help"]
    assert for_owner["cut_so_far"] == cut
    assert for_owner["left_to_cut"] == 8_000 - cut
    assert for_owner["progress_bp"] == cut * 10_000 // 8_000
    assert 86_000 < for_owner["seconds_left"] <= 86_400
    assert [h["nickname"] for h in for_owner["helpers"]] == ["阿强"]
    assert for_owner["product_title"] and for_owner["retail_price"] == 10_000

    assert bargain_share_data(bargain_id, viewer=friend)["can_help"] is False  # helped
    stranger = bargain_share_data(bargain_id, viewer=make_user())
    assert stranger["can_help"] and not stranger["can_buy"] and not stranger["is_owner"]
    assert bargain_share_data(bargain_id)["can_help"] is False  # not logged in


def test_a_campaign_may_accept_points(customer, make_address, make_campaign, start_bargain, pay):
    from quanzi.marketing.points import points_balance, points_credit

    campaign = make_campaign(accepts_points=True)
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    points_credit(user_id=customer.pk, amount=500, reason="test", key="test:bargain-points")
    address = make_address(customer)
    bought = customer.api.post(
        f"/bargains/{bargain_id}/buy", {"address_id": address.pk, "points": 500}
    )
    assert bought.status_code == 201, bought.content
    order = customer.api.get(f"/orders/{bought.json()['order_id']}").json()
    assert order["points_used"] == 500
    assert order["payable"] == 10_000 - 500  # 100 points = ¥1 by default
    assert pay(customer, order["id"])["status"] == "to_ship"
    assert points_balance(user_id=customer.pk) == 0
