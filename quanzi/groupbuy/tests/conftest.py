"""Fixtures for group buying: a product, a campaign made through the API, and a ``flow``
that opens, joins and pays groups the way a client does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

LATER = timedelta(days=40)  # far past any group's lifetime and payment window


@pytest.fixture
def peach(make_product):
    return make_product(title="阳山水蜜桃 5斤", price=5990, supply_price=3000, stock=100)


@pytest.fixture
def peach_sku(peach):
    return peach.skus.get()


@pytest.fixture
def make_campaign(operator, peach_sku):
    def make(*, sku=None, expect: int = 201, **overrides):
        sku = sku or peach_sku
        body = {
            "title": "水蜜桃 3 人团",
            "skus": [{"sku_id": sku.pk, "group_price": 3990, "leader_price": 3590}],
            "group_size": 3,
            "group_ttl_seconds": 86_400,
            "per_user_limit": 5,
            "stock": 50,
        }
        body.update(overrides)
        response = operator.api.post("/admin/group-campaigns", body)
        assert response.status_code == expect, response.content
        return response.json()

    return make


class Flow:
    """Open, join and pay groups through the API."""

    def __init__(self, make_address):
        self.make_address = make_address
        self.addresses: dict[int, int] = {}

    def address(self, user) -> int:
        if user.pk not in self.addresses:
            self.addresses[user.pk] = self.make_address(user).pk
        return self.addresses[user.pk]

    def open(self, user, campaign, sku, *, qty=1, pay=True, expect=201, headers=None, **extra):
        body = {
            "campaign_id": campaign["id"],
            "sku_id": sku.pk,
            "qty": qty,
            "address_id": self.address(user),
            **extra,
        }
        response = user.api.post("/groups", body, headers=headers)
        assert response.status_code == expect, response.content
        if expect != 201:
            return response.json()
        placed = response.json()
        if pay:
            self.pay(user, placed["order_id"])
        return placed

    def join(self, user, group_id, sku, *, qty=1, pay=True, expect=201, headers=None, **extra):
        body = {"sku_id": sku.pk, "qty": qty, "address_id": self.address(user), **extra}
        response = user.api.post(f"/groups/{group_id}/join", body, headers=headers)
        assert response.status_code == expect, response.content
        if expect != 201:
            return response.json()
        placed = response.json()
        if pay:
            self.pay(user, placed["order_id"])
        return placed

    def start_payment(self, user, order_id) -> int:
        response = user.api.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
        assert response.status_code == 200, response.content
        return response.json()["payment_id"]

    def complete(self, user, payment_id):
        response = user.api.post(f"/payments/sandbox/{payment_id}/complete")
        assert response.status_code == 200, response.content
        return response

    def pay(self, user, order_id):
        self.complete(user, self.start_payment(user, order_id))

    def order(self, user, order_id) -> dict:
        return user.api.get(f"/orders/{order_id}").json()


@pytest.fixture
def flow(make_address):
    return Flow(make_address)


@pytest.fixture
def later():
    return lambda: timezone.now() + LATER
