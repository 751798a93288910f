"""No list endpoint runs a query per item (N+1): with the demo data loaded, every GET
list of the API costs as many queries for a page of one item as for a page of all.

The endpoints are taken from the API itself (every GET without a path parameter that
takes ``limit``), for the demo operator and the demo customer, so a new list is
checked the day it is added.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Api

pytestmark = pytest.mark.django_db


def _list_paths() -> list[str]:
    from quanzi.core.api import api

    paths = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        get = methods.get("get")
        if get is None or "{" in path:
            continue
        names = {p["name"] for p in get.get("parameters", []) if p.get("in") == "query"}
        if "limit" in names:
            paths.append(path)
    return sorted(paths)


def _buy(client: Api, sku_id: int) -> dict:
    address = client.get("/me/addresses").json()[0]["id"]
    placed = client.post(
        "/orders",
        {
            "items": [{"sku_id": sku_id, "qty": 1}],
            "address_id": address,
            "pay": {"gateway": "sandbox"},
        },
    )
    assert placed.status_code == 201, placed.content
    paid = client.post(f"/payments/sandbox/{placed.json()['payment']['payment_id']}/complete")
    assert paid.status_code == 200, paid.content
    return placed.json()


def _shop_a_little(customer: Api, customer_user) -> None:
    """What a few days of a shop add to the demo: orders, refunds, shares, bargains, and
    friends buying through the demo customer (commissions)."""
    from quanzi.accounts.services import address_create, referrer_bind, token_issue, user_create
    from quanzi.bargain.models import BargainCampaign
    from quanzi.catalog.models import SKU

    skus = list(SKU.objects.filter(stock__gt=10).order_by("id").values_list("id", flat=True)[:3])
    orders = [_buy(customer, sku_id) for sku_id in skus]
    for order in orders[:2]:
        asked = customer.post(f"/orders/{order['id']}/refunds", {"reason": "不想要了"})
        assert asked.status_code == 201, asked.content
    for sku in SKU.objects.filter(pk__in=skus).select_related("product"):
        assert (
            customer.post("/shares", {"target": "product", "target_id": sku.product_id}).status_code
            == 201
        )
    for campaign_id in BargainCampaign.objects.values_list("id", flat=True):
        customer.post("/bargains", {"campaign_id": campaign_id})
    for i in range(2):
        friend = user_create(phone=f"1770000{i:04d}", password="secret123", nickname=f"朋友{i}")
        address_create(
            user=friend,
            data={
                "name": f"朋友{i}",
                "phone": f"1770000{i:04d}",
                "province": "江苏省",
                "city": "南京市",
                "district": "鼓楼区",
                "detail": f"中山路 {i + 1} 号",
            },
        )
        assert referrer_bind(user=friend, referrer=customer_user, source="test")
        _buy(Api(token_issue(user=friend)), skus[0])


def _queries(client: Api, url: str):
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(url)
    return len(ctx.captured_queries), answer


def test_every_list_costs_the_same_for_one_item_or_a_full_page():
    from quanzi.accounts.models import User
    from quanzi.accounts.services import token_issue
    from quanzi.core.demo import DEMO_CUSTOMER, DEMO_OPERATOR, demo_load

    assert demo_load()
    clients = {
        who: Api(token_issue(user=User.objects.get(phone=phone)))
        for who, phone in (("operator", DEMO_OPERATOR[0]), ("customer", DEMO_CUSTOMER[0]))
    }
    _shop_a_little(clients["customer"], User.objects.get(phone=DEMO_CUSTOMER[0]))
    paths = _list_paths()
    checked, per_item = [], []
    for path in paths:
        for who, client in clients.items():
            _queries(client, f"{path}?limit=100")  # warm-up: per-process caches
            many, answer = _queries(client, f"{path}?limit=100")
            if answer.status_code != 200:
                continue  # not this caller's list (403), or needs a filter
            items = answer.json().get("items", [])
            if len(items) < 2:
                continue
            one, answer = _queries(client, f"{path}?limit=1")
            assert answer.status_code == 200 and len(answer.json()["items"]) == 1
            checked.append((path, who, len(items)))
            if many != one:
                per_item.append(
                    f"{path} as {who}: {one} queries for 1 item, {many} for {len(items)}"
                )
    assert per_item == []
    # The demo data fills enough lists for the check to mean something.
    assert len({path for path, _, _ in checked}) >= 12, checked
