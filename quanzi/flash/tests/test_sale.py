"""A flash sale through the API, in the embedded mode (no Redis) and with the gate."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from quanzi.catalog.models import SKU
from quanzi.flash.models import FlashBucket, FlashItem, FlashOrder
from quanzi.flash.tests.conftest import buy_body

pytestmark = pytest.mark.django_db


def _units(sale_id):
    item = FlashItem.objects.get(sale_id=sale_id)
    sold = sum(FlashOrder.objects.filter(item=item, returned=False).values_list("qty", flat=True))
    left = sum(FlashBucket.objects.filter(item=item).values_list("left", flat=True))
    return sold, left, item.returned


@pytest.mark.parametrize("mode", ["no_gate", "redis_gate"])
def test_sale_sells_its_allotment_and_then_is_sold_out(
    mode, request, make_sale, make_buyer, anon, flash_sku
):
    request.getfixturevalue(mode)
    sale = make_sale(allotment=3, limit=1, buckets=2)
    assert SKU.objects.get(pk=flash_sku.pk).stock == 997  # the allotment left the shelf
    buyers = [make_buyer() for _ in range(4)]
    codes = [b.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, b)) for b in buyers]
    assert [c.status_code for c in codes] == [201, 201, 201, 409]
    assert codes[3].json()["code"] == "out_of_stock"
    assert codes[0].json()["payable"] == 990
    shown = anon.get(f"/flash-sales/{sale['id']}").json()
    assert shown["sold_out"] is True
    assert (shown["items"][0]["sold"], shown["items"][0]["left"]) == (3, 0)
    assert _units(sale["id"]) == (3, 0, 0)


@pytest.mark.parametrize("mode", ["no_gate", "redis_gate"])
def test_per_user_limit(mode, request, make_sale, make_buyer):
    request.getfixturevalue(mode)
    sale = make_sale(allotment=10, limit=2)
    buyer = make_buyer()
    path = f"/flash-sales/{sale['id']}/orders"
    assert buyer.api.post(path, buy_body(sale, buyer)).status_code == 201
    assert buyer.api.post(path, buy_body(sale, buyer, qty=2)).json()["code"] == "limit_exceeded"
    assert buyer.api.post(path, buy_body(sale, buyer)).status_code == 201
    assert buyer.api.post(path, buy_body(sale, buyer)).json()["code"] == "limit_exceeded"
    assert _units(sale["id"]) == (2, 8, 0)


def test_not_started_then_countdown(no_gate, make_sale, make_buyer, anon):
    sale = make_sale(starts_in=600)
    assert sale["state"] == "scheduled" and 590 <= sale["seconds_to_start"] <= 600
    buyer = make_buyer()
    answer = buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer))
    assert (answer.status_code, answer.json()["code"]) == (409, "flash_not_started")
    assert [s["id"] for s in anon.get("/flash-sales").json()["items"]] == [sale["id"]]


@pytest.mark.parametrize("mode", ["no_gate", "redis_gate"])
def test_cancelled_order_gives_its_unit_back(mode, request, make_sale, make_buyer):
    request.getfixturevalue(mode)
    sale = make_sale(allotment=1, limit=1)
    first, second = make_buyer(), make_buyer()
    path = f"/flash-sales/{sale['id']}/orders"
    order = first.api.post(path, buy_body(sale, first)).json()
    assert second.api.post(path, buy_body(sale, second)).json()["code"] == "out_of_stock"
    assert first.api.post(f"/orders/{order['order_id']}/cancel").status_code == 200
    assert _units(sale["id"]) == (0, 1, 0)
    assert second.api.post(path, buy_body(sale, second)).status_code == 201
    # the first buyer's quota came back too
    assert first.api.post(path, buy_body(sale, first)).json()["code"] == "out_of_stock"


def test_pay_in_the_same_request_and_pay_it(no_gate, make_sale, make_buyer):
    sale = make_sale(allotment=2)
    buyer = make_buyer()
    placed = buyer.api.post(
        f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer, pay={"gateway": "sandbox"})
    ).json()
    assert placed["payment"]["amount"] == 990
    done = buyer.api.post(f"/payments/sandbox/{placed['payment']['payment_id']}/complete")
    assert done.status_code == 200
    assert buyer.api.get(f"/orders/{placed['order_id']}").json()["status"] == "to_ship"


def test_closing_sends_what_is_left_back_to_the_shelf(
    no_gate, make_sale, make_buyer, operator, flash_sku
):
    sale = make_sale(allotment=5)
    buyer = make_buyer()
    order = buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer)).json()
    closed = operator.api.post(f"/admin/flash-sales/{sale['id']}/close").json()
    assert closed["state"] == "ended" and closed["items"][0]["left"] == 0
    assert SKU.objects.get(pk=flash_sku.pk).stock == 1000 - 1
    assert _units(sale["id"]) == (1, 0, 4)
    # the unpaid order cancelled after the close: its unit goes to the shelf too
    buyer.api.post(f"/orders/{order['order_id']}/cancel")
    assert SKU.objects.get(pk=flash_sku.pk).stock == 1000
    assert _units(sale["id"]) == (0, 0, 5)
    answer = buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer))
    assert answer.json()["code"] == "flash_ended"


def test_bad_inputs_are_clear_4xx(no_gate, operator, flash_sku, make_sale, make_buyer):
    base = {
        "title": "x",
        "starts_at": "2030-01-01T10:00:00+08:00",
        "ends_at": "2030-01-01T09:00:00+08:00",
        "items": [{"sku_id": flash_sku.pk, "price": 100, "allotment": 5}],
    }
    assert operator.api.post("/admin/flash-sales", base).json()["code"] == "invalid_window"
    base["ends_at"] = "2030-01-01T11:00:00+08:00"
    base["items"][0]["allotment"] = 5000
    assert operator.api.post("/admin/flash-sales", base).json()["code"] == "out_of_stock"
    base["items"][0].update(allotment=5, price=999_999)
    assert operator.api.post("/admin/flash-sales", base).json()["code"] == "invalid_price"
    sale = make_sale()
    buyer = make_buyer()
    wrong = {"sku_id": 99999, "address_id": buyer.address_id}
    assert (
        buyer.api.post(f"/flash-sales/{sale['id']}/orders", wrong).json()["code"]
        == "sku_not_in_sale"
    )
    assert buyer.api.post("/flash-sales/99999/orders", wrong).status_code == 404
    no_address = {"sku_id": sale["items"][0]["sku_id"]}
    assert (
        buyer.api.post(f"/flash-sales/{sale['id']}/orders", no_address).json()["code"]
        == "address_required"
    )


def test_reconcile_command_runs_in_the_embedded_mode(no_gate, make_sale, capsys):
    make_sale()
    call_command("flash_reconcile")
    assert "tickets returned 0" in capsys.readouterr().out
