from __future__ import annotations

import pytest


@pytest.fixture
def make_plan(operator):
    def make(**data):
        body = {"name": "年卡", "price": 9900, "duration_days": 365, **data}
        response = operator.api.post("/admin/membership-plans", body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def buy_plan():
    """Buy a plan through the API and pay it with the sandbox; returns the order JSON."""

    def run(user, plan_id: int, *, key: str | None = None):
        headers = {"Idempotency-Key": key} if key else None
        bought = user.api.post(f"/membership-plans/{plan_id}/buy", headers=headers)
        assert bought.status_code == 201, bought.content
        order_id = bought.json()["order_id"]
        payment = user.api.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
        assert payment.status_code == 200, payment.content
        done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
        assert done.status_code == 200, done.content
        return user.api.get(f"/orders/{order_id}").json()

    return run
