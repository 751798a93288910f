from __future__ import annotations

import pytest


@pytest.fixture
def make_campaign(operator, make_product):
    """Create a bargain campaign through the operator API; returns its JSON."""

    def make(*, price: int = 10_000, supply_price: int = 3_000, sku_stock: int = 50, **fields):
        sku = make_product(price=price, supply_price=supply_price, stock=sku_stock).skus.get()
        body = {
            "sku_id": sku.pk,
            "start_price": price,
            "floor_price": 1_000,
            "helpers_min": 3,
            "helpers_max": 5,
            "ttl_seconds": 86_400,
            "per_user_limit": 2,
            "stock": 10,
            **fields,
        }
        response = operator.api.post("/admin/bargain-campaigns", body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def start_bargain():
    def start(user, campaign) -> dict:
        response = user.api.post("/bargains", {"campaign_id": campaign["id"]})
        assert response.status_code == 201, response.content
        return response.json()

    return start


@pytest.fixture
def pay():
    """Pay an existing order through the sandbox; returns the order JSON."""

    def run(user, order_id: int) -> dict:
        payment = user.api.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
        assert payment.status_code == 200, payment.content
        done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
        assert done.status_code == 200, done.content
        return user.api.get(f"/orders/{order_id}").json()

    return run
