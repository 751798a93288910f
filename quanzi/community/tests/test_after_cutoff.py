"""After the cutoff: close, purchase orders, sorting lists, arrival, shortages, pickup,
unpicked orders, and the leader's commission through settlement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.community import sweeps
from quanzi.community.models import CommunitySettings, PurchaseOrder, WaveItem
from quanzi.orders.models import Order


def _close(wave, clock):
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    assert sweeps.waves_close_due() == 1
    assert sweeps.waves_aggregate_due() == 1


def test_closing_returns_unsold_stock_to_the_shelf(leader, customer, wave, veg, shop, clock):
    shop.order(customer, wave, leader.point_id, [(veg, 3)])
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    assert sweeps.waves_close_due() == 1
    assert SKU.objects.get(pk=veg.pk).stock == 100 - 3
    assert sweeps.waves_close_due() == 0
    item = WaveItem.objects.get(wave_id=wave["id"], sku=veg)
    assert (item.remaining, item.sold, item.returned) == (0, 3, 17)


def test_purchase_orders_sum_paid_lines_and_rerun_changes_nothing(
    leader, make_user, wave, veg, eggs, shop, clock, operator
):
    a, b, c, d = (make_user() for _ in range(4))
    shop.order(a, wave, leader.point_id, [(veg, 2), (eggs, 1)])
    shop.order(b, wave, leader.point_id, [(veg, 3)])
    unpaid = shop.order(c, wave, leader.point_id, [(veg, 4)], pay=False)
    cancelled = shop.order(d, wave, leader.point_id, [(eggs, 2)], pay=False)
    d.api.post(f"/orders/{cancelled['id']}/cancel")
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    assert sweeps.waves_close_due() == 1
    assert sweeps.waves_aggregate_due() == 0  # an order still awaits payment
    c.api.post(f"/orders/{unpaid['id']}/cancel")
    assert sweeps.waves_aggregate_due() == 1
    pos = operator.api.get(f"/admin/community/waves/{wave['id']}/purchase-orders").json()["items"]
    qty = {line["sku_id"]: line["qty"] for po in pos for line in po["lines"]}
    assert qty == {veg.pk: 5, eggs.pk: 1}
    assert pos[0]["total_cost"] == 5 * 200 + 1 * 700
    assert sweeps.waves_close_due() == 0 and sweeps.waves_aggregate_due() == 0
    assert PurchaseOrder.objects.count() == 1
    again = operator.api.get(f"/admin/community/waves/{wave['id']}/purchase-orders").json()
    assert again["items"] == pos


def test_sorting_list_per_point_with_bags_and_codes(
    make_leader, make_user, wave, veg, eggs, shop, clock, operator
):
    from quanzi.community.tests.conftest import CUIYUAN

    first, second = make_leader(), make_leader(name="翠苑驿站", at=CUIYUAN, area="西湖区")
    a, b = make_user(nickname="阿花"), make_user(nickname="阿明")
    oa = shop.order(a, wave, first.point_id, [(veg, 2)])
    ob = shop.order(b, wave, second.point_id, [(veg, 1), (eggs, 2)])
    _close(wave, clock)
    lists = operator.api.get(f"/admin/community/waves/{wave['id']}/sorting-lists").json()["items"]
    by_point = {entry["point_id"]: entry for entry in lists}
    assert by_point[first.point_id]["skus"] == [
        {"sku_id": veg.pk, "title": "本地小青菜 500g 默认", "qty": 2}
    ]
    bag = by_point[second.point_id]["bags"][0]
    assert bag["order_id"] == ob["id"] and bag["code"] == ob["pickup"]["code"]
    assert by_point[first.point_id]["bags"][0]["code"] == oa["pickup"]["code"]
    routes = operator.api.get(f"/admin/community/waves/{wave['id']}/routes").json()["items"]
    assert [r["area"] for r in routes] == ["西湖区"]
    assert {p["point_id"] for p in routes[0]["points"]} == {first.point_id, second.point_id}


def test_pickup_code_works_once_and_completes_the_order(leader, customer, wave, veg, shop, clock):
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    _close(wave, clock)
    code = order["pickup"]["code"]
    early = leader.api.post(f"/community/points/{leader.point_id}/pickups", {"code": code})
    assert early.status_code == 409 and early.json()["code"] == "not_arrived"
    arrived = leader.api.post(
        f"/community/points/{leader.point_id}/arrivals", {"wave_id": wave["id"]}
    )
    assert arrived.status_code == 201, arrived.content
    done = leader.api.post(f"/community/points/{leader.point_id}/pickups", {"code": code})
    assert done.status_code == 200, done.content
    assert done.json() == {"order_id": order["id"], "status": "completed"}
    again = leader.api.post(f"/community/points/{leader.point_id}/pickups", {"code": code})
    assert again.status_code == 409 and again.json()["code"] == "pickup_code_used"
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "completed"


def test_wrong_codes_are_refused_then_rate_limited(leader, customer, wave, veg, shop, clock):
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    _close(wave, clock)
    leader.api.post(f"/community/points/{leader.point_id}/arrivals", {"wave_id": wave["id"]})
    CommunitySettings.objects.create(pk=1, pickup_attempts_per_10min=3)
    wrong = "000000" if order["pickup"]["code"] != "000000" else "111111"
    for _ in range(3):
        r = leader.api.post(f"/community/points/{leader.point_id}/pickups", {"code": wrong})
        assert r.status_code == 404 and r.json()["code"] == "invalid_pickup_code"
    blocked = leader.api.post(
        f"/community/points/{leader.point_id}/pickups", {"code": order["pickup"]["code"]}
    )
    assert blocked.status_code == 429


def test_another_leader_cannot_verify_at_my_point(
    leader, make_leader, customer, wave, veg, shop, clock
):
    from quanzi.community.tests.conftest import CUIYUAN

    other = make_leader(name="翠苑", at=CUIYUAN)
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    _close(wave, clock)
    r = other.api.post(
        f"/community/points/{leader.point_id}/pickups", {"code": order["pickup"]["code"]}
    )
    assert r.status_code == 404


def test_shortage_refunds_exactly_the_short_units_most_recent_first(
    leader, make_user, wave, veg, eggs, shop, clock
):
    older, newer = make_user(), make_user()
    first = shop.order(older, wave, leader.point_id, [(veg, 3), (eggs, 1)])
    second = shop.order(newer, wave, leader.point_id, [(veg, 2)])
    _close(wave, clock)
    arrived = leader.api.post(
        f"/community/points/{leader.point_id}/arrivals",
        {"wave_id": wave["id"], "shortages": [{"sku_id": veg.pk, "qty": 3}]},
    )
    assert arrived.status_code == 201, arrived.content
    newer_order = newer.api.get(f"/orders/{second['id']}").json()
    older_order = older.api.get(f"/orders/{first['id']}").json()
    assert newer_order["status"] == "refunded"
    assert newer_order["refunded_amount"] == 2 * 390
    veg_line = next(line for line in older_order["lines"] if line["sku_id"] == veg.pk)
    assert veg_line["refunded_qty"] == 1 and veg_line["refunded_amount"] == 390
    assert older_order["status"] == "to_ship"
    item = WaveItem.objects.get(wave_id=wave["id"], sku=veg)
    assert (item.sold, item.written_off) == (2, 3)
    assert SKU.objects.get(pk=veg.pk).stock == 100 - 5  # short goods never reached the shelf
    # Confirming again changes nothing.
    leader.api.post(
        f"/community/points/{leader.point_id}/arrivals",
        {"wave_id": wave["id"], "shortages": [{"sku_id": veg.pk, "qty": 3}]},
    )
    assert Order.objects.get(pk=first["id"]).refunded_amount == 390


def test_shortage_above_what_was_ordered_is_refused(leader, customer, wave, veg, shop, clock):
    shop.order(customer, wave, leader.point_id, [(veg, 1)])
    _close(wave, clock)
    r = leader.api.post(
        f"/community/points/{leader.point_id}/arrivals",
        {"wave_id": wave["id"], "shortages": [{"sku_id": veg.pk, "qty": 2}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "shortage_exceeds_orders"


@pytest.mark.parametrize("action", ["refund", "remind"])
def test_unpicked_orders_refunded_or_reminded(action, leader, customer, wave, veg, shop, clock):
    from quanzi.notifications.models import Notification

    CommunitySettings.objects.create(pk=1, unpicked_days=2, unpicked_action=action)
    order = shop.order(customer, wave, leader.point_id, [(veg, 2)])
    _close(wave, clock)
    leader.api.post(f"/community/points/{leader.point_id}/arrivals", {"wave_id": wave["id"]})
    pickup_date = datetime.fromisoformat(wave["pickup_date"])
    clock.at = timezone.make_aware(pickup_date) + timedelta(hours=12)
    assert sweeps.orders_unpicked() == 0
    clock.at = timezone.make_aware(pickup_date) + timedelta(days=1)
    assert sweeps.orders_unpicked() == 1  # a day before the deadline: a reminder, once
    assert sweeps.orders_unpicked() == 0
    assert Notification.objects.filter(user=customer, kind="community_pickup_deadline").count() == 1
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "to_ship"
    clock.at = timezone.make_aware(pickup_date) + timedelta(days=2, minutes=1)
    assert sweeps.orders_unpicked() == 1
    status = customer.api.get(f"/orders/{order['id']}").json()["status"]
    if action == "refund":
        assert status == "refunded"
        assert sweeps.orders_unpicked() == 0
    else:
        assert status == "to_ship"
        assert (
            Notification.objects.filter(user=customer, kind="community_pickup_reminder").count()
            == 1
        )
        assert sweeps.orders_unpicked() == 0  # once a day


def test_leader_commission_settles_and_refund_after_settlement_claws_back(
    leader, customer, wave, veg, eggs, shop, clock, operator
):
    from quanzi.distribution.books import available_of
    from quanzi.orders.services import orders_settle_due

    order = shop.order(customer, wave, leader.point_id, [(veg, 2), (eggs, 1)])
    commissions = leader.api.get("/me/commissions").json()["items"]
    assert sum(c["amount"] for c in commissions) == (2 * 390) // 10 + 1290 // 10
    assert {c["level"] for c in commissions} == {1}
    _close(wave, clock)
    leader.api.post(f"/community/points/{leader.point_id}/arrivals", {"wave_id": wave["id"]})
    leader.api.post(
        f"/community/points/{leader.point_id}/pickups", {"code": order["pickup"]["code"]}
    )
    assert orders_settle_due(now=timezone.now() + timedelta(days=30)) == 1
    assert available_of(leader.pk) == 78 + 129
    earnings = leader.api.get("/community/leader/me").json()["earnings"]
    assert earnings["available"] == 207
    eggs_line = next(line for line in order["lines"] if line["sku_id"] == eggs.pk)
    refund = operator.api.post(
        f"/admin/orders/{order['id']}/refunds",
        {"lines": [{"line_id": eggs_line["id"], "qty": 1}], "reason": "坏蛋"},
    )
    assert refund.status_code == 201, refund.content
    assert available_of(leader.pk) == 78


def test_no_commission_to_the_distribution_chain(make_user, leader, wave, veg, eggs, shop, buy):
    from quanzi.accounts.services import referrer_bind

    upline = make_user(nickname="上级")
    buyer = make_user()
    referrer_bind(user=buyer, referrer=upline, source="invite")
    normal = buy(buyer, eggs)  # the same buyer's normal order pays the upline
    earned = upline.api.get("/me/commissions").json()["items"]
    assert [c["order_id"] for c in earned] == [normal["id"]]
    community = shop.order(buyer, wave, leader.point_id, [(veg, 1)])
    assert [c["order_id"] for c in upline.api.get("/me/commissions").json()["items"]] == [
        normal["id"]
    ]
    leader_rows = leader.api.get("/me/commissions").json()["items"]
    assert [(c["order_id"], c["level"]) for c in leader_rows] == [(community["id"], 1)]


def test_unpaid_order_cancelled_after_the_cutoff_returns_units_to_the_shelf(
    leader, customer, wave, veg, shop, clock
):
    order = shop.order(customer, wave, leader.point_id, [(veg, 4)], pay=False)
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    sweeps.waves_close_due()
    assert SKU.objects.get(pk=veg.pk).stock == 100 - 4
    customer.api.post(f"/orders/{order['id']}/cancel")
    assert SKU.objects.get(pk=veg.pk).stock == 100
    item = WaveItem.objects.get(wave_id=wave["id"], sku=veg)
    assert (item.sold, item.returned) == (0, 20)


def test_shortage_waits_for_a_refund_in_progress(
    leader, customer, operator, wave, veg, shop, clock
):
    from quanzi.community.pickups import shortage_refunds_run

    order = shop.order(customer, wave, leader.point_id, [(veg, 3)])
    line = order["lines"][0]
    asked = customer.api.post(
        f"/orders/{order['id']}/refunds", {"lines": [{"line_id": line["id"], "qty": 1}]}
    )
    assert asked.status_code == 201
    _close(wave, clock)
    arrived = leader.api.post(
        f"/community/points/{leader.point_id}/arrivals",
        {"wave_id": wave["id"], "shortages": [{"sku_id": veg.pk, "qty": 1}]},
    )
    assert arrived.json()["refunds"] == [
        {"order_id": order["id"], "lines": [{"line_id": line["id"], "qty": 1}], "refund_id": None}
    ]
    rejected = operator.api.post(f"/admin/refunds/{asked.json()['id']}/reject", {"reason": "no"})
    assert rejected.status_code == 200
    assert shortage_refunds_run() == 1
    assert shortage_refunds_run() == 0
    done = customer.api.get(f"/orders/{order['id']}").json()
    assert done["lines"][0]["refunded_qty"] == 1 and done["refunded_amount"] == 390


def test_closing_a_leader_closes_its_points_and_a_leader_may_run_several(
    leader, operator, customer, wave, veg, shop
):
    body = {"point": {"name": "第二个点", "address": "文一路 2 号", "lat": 30.29, "lng": 120.12}}
    second = leader.api.post("/community/leader-applications", body).json()
    approved = operator.api.post(f"/admin/community/leader-applications/{second['id']}/approve")
    assert approved.json()["leader_id"] == leader.leader_id
    assert len(leader.api.get("/community/leader/me").json()["points"]) == 2
    operator.api.post(f"/admin/community/leaders/{leader.leader_id}/close")
    assert customer.api.get("/community/points").json()["items"] == []
    refused = shop.order(customer, wave, approved.json()["point_id"], [(veg, 1)], expect=409)
    assert refused["code"] == "point_unavailable"
    reopen = operator.api.post(f"/admin/community/leaders/{leader.leader_id}/reinstate")
    assert reopen.status_code == 409


def test_leader_upline_earns_level_2_only_when_the_operator_chooses(
    make_user, make_leader, customer, operator, wave, veg, eggs, shop
):
    from quanzi.accounts.services import referrer_bind

    upline = make_user(nickname="团长的上级")
    leader = make_leader()
    referrer_bind(user=leader, referrer=upline, source="invite")
    shop.order(customer, wave, leader.point_id, [(veg, 1)])
    assert upline.api.get("/me/commissions").json()["items"] == []

    settings = operator.api.get("/admin/community/settings").json()
    r = operator.api.put("/admin/community/settings", {**settings, "leader_upline_level2": True})
    assert r.status_code == 200 and r.json()["leader_upline_level2"] is True
    order = shop.order(customer, wave, leader.point_id, [(eggs, 2)])
    earned = upline.api.get("/me/commissions").json()["items"]
    assert [(c["order_id"], c["level"], c["amount"]) for c in earned] == [
        (order["id"], 2, 2580 * 500 // 10_000)
    ]
    leader_rows = leader.api.get("/me/commissions").json()["items"]
    assert {(c["order_id"], c["level"]) for c in leader_rows} >= {(order["id"], 1)}
