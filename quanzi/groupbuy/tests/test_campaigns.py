"""Campaigns: what the operator may set up, and what everyone sees of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.groupbuy.models import GroupCampaign


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def test_operator_creates_a_campaign_and_sees_it(operator, make_campaign, peach, peach_sku):
    campaign = make_campaign(simulated_fill_max_missing=1, commission_enabled=True)
    assert campaign["group_size"] == 3 and campaign["stock"] == 50
    assert campaign["skus"] == [
        {
            "sku_id": peach_sku.pk,
            "name": "默认",
            "price": 5990,
            "group_price": 3990,
            "leader_price": 3590,
        }
    ]
    assert campaign["product"]["id"] == peach.pk
    assert campaign["commission_enabled"] and not campaign["accepts_coupons"]
    listed = operator.api.get("/admin/group-campaigns").json()["items"]
    assert [c["id"] for c in listed] == [campaign["id"]]
    detail = operator.api.get(f"/admin/group-campaigns/{campaign['id']}").json()
    assert detail["groups"]["forming"] == 0


def test_customers_cannot_create_or_list_campaigns_as_operator(customer, peach_sku):
    body = {
        "title": "x",
        "skus": [{"sku_id": peach_sku.pk, "group_price": 100}],
        "group_size": 2,
        "group_ttl_seconds": 3600,
        "per_user_limit": 1,
        "stock": 1,
    }
    assert customer.api.post("/admin/group-campaigns", body).status_code == 403
    assert customer.api.get("/admin/group-campaigns").status_code == 403
    assert not GroupCampaign.objects.exists()


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"group_size": 1}, "group_size_invalid"),
        ({"group_size": 101}, "group_size_invalid"),
        ({"group_size": 0}, "group_size_invalid"),
        ({"skus": "ZERO"}, "invalid_price"),
        ({"skus": "NEGATIVE"}, "invalid_price"),
        ({"skus": "ABOVE_RETAIL"}, "invalid_price"),
        ({"skus": "LEADER_ABOVE_GROUP"}, "invalid_price"),
        ({"skus": []}, "invalid_sku"),
        ({"group_ttl_seconds": 10}, "invalid_ttl"),
        ({"per_user_limit": 0}, "invalid_limit"),
        ({"stock": 0}, "invalid_stock"),
        ({"simulated_fill_max_missing": 3}, "invalid_simulated_fill"),
        ({"ends_at": "PAST"}, "invalid_window"),
        ({"starts_at": "TOMORROW", "ends_at": "IN_AN_HOUR"}, "invalid_window"),
    ],
)
def test_bad_campaigns_are_refused_with_a_clear_code(make_campaign, peach_sku, override, code):
    skus = {
        "ZERO": [{"sku_id": peach_sku.pk, "group_price": 0}],
        "NEGATIVE": [{"sku_id": peach_sku.pk, "group_price": -100}],
        "ABOVE_RETAIL": [{"sku_id": peach_sku.pk, "group_price": 6000}],
        "LEADER_ABOVE_GROUP": [{"sku_id": peach_sku.pk, "group_price": 3000, "leader_price": 3500}],
    }
    times = {
        "PAST": iso(-timedelta(hours=1)),
        "TOMORROW": iso(timedelta(days=1)),
        "IN_AN_HOUR": iso(timedelta(hours=1)),
    }
    body = {
        key: skus.get(value, value)
        if key == "skus" and isinstance(value, str)
        else times.get(value, value)
        if isinstance(value, str)
        else value
        for key, value in override.items()
    }
    answer = make_campaign(expect=422, **body)
    assert answer["code"] == code
    assert set(answer) == {"code", "message", "detail"}
    assert not GroupCampaign.objects.exists()


def test_skus_of_two_products_make_no_campaign(make_campaign, make_product, peach_sku):
    other = make_product(title="赣南脐橙").skus.get()
    answer = make_campaign(
        expect=422,
        skus=[
            {"sku_id": peach_sku.pk, "group_price": 3990},
            {"sku_id": other.pk, "group_price": 990},
        ],
    )
    assert answer["code"] == "skus_of_one_product"


def test_one_sku_is_in_one_group_campaign_at_a_time(operator, make_campaign, peach_sku):
    first = make_campaign(ends_at=iso(timedelta(days=7)))
    clash = make_campaign(
        expect=409, starts_at=iso(timedelta(days=3)), ends_at=iso(timedelta(days=9))
    )
    assert clash["code"] == "campaign_overlap" and clash["detail"]["campaign_id"] == first["id"]
    # An open-ended campaign overlaps everything after its start.
    assert make_campaign(expect=409)["code"] == "campaign_overlap"
    # Back to back is fine.
    make_campaign(starts_at=iso(timedelta(days=7, seconds=1)), ends_at=iso(timedelta(days=14)))
    # Ending the first one early frees its SKU from now on.
    assert operator.api.post(f"/admin/group-campaigns/{first['id']}/end").status_code == 200
    make_campaign(starts_at=iso(timedelta(minutes=1)), ends_at=iso(timedelta(days=6)))


def test_public_list_shows_running_campaigns_with_product_and_price(
    anon, make_campaign, make_product, peach
):
    running = make_campaign()
    later_sku = make_product(title="赣南脐橙").skus.get()
    make_campaign(
        skus=[{"sku_id": later_sku.pk, "group_price": 990}], starts_at=iso(timedelta(days=1))
    )
    page = anon.get("/group-campaigns").json()
    assert [c["id"] for c in page["items"]] == [running["id"]]
    item = page["items"][0]
    assert item["product"]["title"] == "阳山水蜜桃 5斤" and item["group_price"] == 3990
    assert item["price"] == 5990 and item["group_size"] == 3
    detail = anon.get(f"/group-campaigns/{running['id']}").json()
    assert detail["open_groups"] == []
    assert anon.get("/group-campaigns/999999").json()["code"] == "campaign_not_found"
