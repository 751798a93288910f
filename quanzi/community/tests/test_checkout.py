"""Community checkout: wave price, no address or shipping, the cutoff to the second, the
per-user limit, wave stock taken at publication and returned at close."""

from __future__ import annotations

from datetime import timedelta

from quanzi.catalog.models import SKU
from quanzi.community.models import WaveItem


def test_order_at_wave_price_without_address_or_shipping(leader, customer, wave, veg, eggs, shop):
    order = shop.order(customer, wave, leader.point_id, [(veg, 2), (eggs, 1)])
    assert order["status"] == "to_ship"
    assert order["payable"] == 2 * 390 + 1290
    assert order["shipping"] == 0
    assert order["address"] == {}
    pickup = order["pickup"]
    assert pickup["point_id"] == leader.point_id
    assert pickup["point"]["name"] == "幸福里便利店"
    assert len(pickup["code"]) == 6 and pickup["code"].isdigit()


def test_unpaid_order_shows_no_code_yet(leader, customer, wave, veg, shop):
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)], pay=False)
    assert order["status"] == "pending_payment"
    assert order["pickup"]["code"] is None


def test_publishing_takes_wave_stock_from_the_shelf(wave, veg, eggs):
    assert SKU.objects.get(pk=veg.pk).stock == 80
    assert SKU.objects.get(pk=eggs.pk).stock == 90


def test_cutoff_one_second_before_accepted_at_cutoff_refused(
    leader, customer, wave, veg, shop, clock
):
    from datetime import datetime

    cutoff = datetime.fromisoformat(wave["cutoff_at"])
    clock.at = cutoff - timedelta(seconds=1)
    shop.order(customer, wave, leader.point_id, [(veg, 1)], pay=False)
    clock.at = cutoff
    refused = shop.order(customer, wave, leader.point_id, [(veg, 1)], expect=409)
    assert refused["code"] == "wave_closed"


def test_wave_closed_offers_the_next_open_wave(leader, customer, make_wave, veg, shop, clock):
    from datetime import datetime

    from django.utils import timezone

    first = make_wave([{"sku_id": veg.pk, "price": 390, "stock": 5}])
    second = make_wave(
        [{"sku_id": veg.pk, "price": 400, "stock": 5}], cutoff=timezone.now() + timedelta(days=1)
    )
    clock.at = datetime.fromisoformat(first["cutoff_at"])
    refused = shop.order(customer, first, leader.point_id, [(veg, 1)], expect=409)
    assert refused["detail"]["next_wave_id"] == second["id"]


def test_per_user_limit_across_orders(leader, customer, wave, veg, shop):
    shop.order(customer, wave, leader.point_id, [(veg, 3)])
    refused = shop.order(customer, wave, leader.point_id, [(veg, 3)], expect=409)
    assert refused["code"] == "limit_exceeded"
    shop.order(customer, wave, leader.point_id, [(veg, 2)])


def test_wave_stock_runs_out(leader, make_user, wave, eggs, shop):
    buyers = [make_user() for _ in range(3)]
    shop.order(buyers[0], wave, leader.point_id, [(eggs, 6)])
    shop.order(buyers[1], wave, leader.point_id, [(eggs, 4)])
    refused = shop.order(buyers[2], wave, leader.point_id, [(eggs, 1)], expect=409)
    assert refused["code"] == "out_of_stock"


def test_cancel_returns_units_to_the_wave_and_the_limit(leader, customer, wave, veg, shop):
    order = shop.order(customer, wave, leader.point_id, [(veg, 5)], pay=False)
    assert customer.api.post(f"/orders/{order['id']}/cancel").status_code == 200
    item = WaveItem.objects.get(wave_id=wave["id"], sku=veg)
    assert (item.remaining, item.sold) == (20, 0)
    shop.order(customer, wave, leader.point_id, [(veg, 5)])


def test_sku_outside_the_wave_is_refused(leader, customer, wave, make_product, shop):
    other = make_product(title="大米").skus.get()
    refused = shop.order(customer, wave, leader.point_id, [(other, 1)], expect=422)
    assert refused["code"] == "sku_not_in_wave"


def test_other_channels_cannot_be_named_at_checkout(customer, veg):
    r = customer.api.post("/orders", {"channel": "group", "items": [{"sku_id": veg.pk, "qty": 1}]})
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_channel"


def test_current_wave_shows_items_and_countdown(anon, wave, veg):
    current = anon.get("/community/waves/current").json()
    assert current["id"] == wave["id"]
    assert current["seconds_left"] > 0
    assert {i["sku_id"]: i["price"] for i in current["items"]}[veg.pk] == 390


def test_wave_price_above_retail_is_refused(make_wave, veg):
    refused = make_wave([{"sku_id": veg.pk, "price": 9999, "stock": 1}], expect=422)
    assert refused["code"] == "invalid_price"


def test_refund_while_open_returns_units_to_the_wave(leader, customer, operator, wave, veg, shop):
    order = shop.order(customer, wave, leader.point_id, [(veg, 4)])
    refund = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "不要了"})
    assert refund.status_code == 201, refund.content
    item = WaveItem.objects.get(wave_id=wave["id"], sku=veg)
    assert (item.remaining, item.sold, item.written_off) == (20, 0, 0)
    shop.order(customer, wave, leader.point_id, [(veg, 5)])  # the limit came back too


def test_same_idempotency_key_places_one_community_order(leader, customer, wave, veg):
    from quanzi.orders.models import Order

    body = {
        "channel": "community",
        "wave_id": wave["id"],
        "pickup_point_id": leader.point_id,
        "items": [{"sku_id": veg.pk, "qty": 1}],
    }
    headers = {"Idempotency-Key": "community-1"}
    first = customer.api.post("/orders", body, headers=headers)
    second = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.filter(channel="community").count() == 1
    assert WaveItem.objects.get(wave_id=wave["id"], sku=veg).sold == 1


def test_checkout_in_one_request_with_pay(leader, customer, wave, veg):
    body = {
        "channel": "community",
        "wave_id": wave["id"],
        "pickup_point_id": leader.point_id,
        "items": [{"sku_id": veg.pk, "qty": 1}],
        "pay": {"gateway": "sandbox"},
    }
    response = customer.api.post("/orders", body)
    assert response.status_code == 201, response.content
    assert response.json()["payment"]["gateway"] == "sandbox"
    assert response.json()["pickup"]["point_id"] == leader.point_id


def test_hot_reads_take_a_fixed_number_of_queries(
    make_leader, anon, make_wave, make_product, django_assert_max_num_queries
):
    from quanzi.community.tests.conftest import BINJIANG, CUIYUAN, XIHU

    for name, at in (("一", XIHU), ("二", CUIYUAN), ("三", BINJIANG)):
        make_leader(name=name, at=at)
    skus = [make_product(title=f"菜 {n}", price=500, supply_price=200).skus.get() for n in range(6)]
    make_wave([{"sku_id": s.pk, "price": 400, "stock": 5} for s in skus])
    with django_assert_max_num_queries(4):
        assert len(anon.get("/community/waves/current").json()["items"]) == 6
    with django_assert_max_num_queries(2):
        assert len(anon.get(f"/community/points?lat={XIHU[0]}&lng={XIHU[1]}").json()["items"]) == 3
