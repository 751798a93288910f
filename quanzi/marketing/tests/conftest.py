from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

_keys = itertools.count(1)


@pytest.fixture
def make_template(db):
    from quanzi.marketing.services import coupon_template_create

    def make(**data):
        data.setdefault("name", "满100减10")
        data.setdefault("kind", "amount_off")
        if data["kind"] == "amount_off":
            data.setdefault("amount", 1000)
        data.setdefault("threshold", 0)
        data.setdefault("total", 100)
        data.setdefault("per_user_limit", 1)
        if "valid_until" not in data:
            data.setdefault("valid_days", 7)
        return coupon_template_create(data=data)

    return make


@pytest.fixture
def coupon_for(make_template):
    """A coupon in the user's hands (granted), from a new template with ``data``."""
    from quanzi.marketing.services import coupon_grant

    def make(user, **data):
        template = make_template(**data)
        return coupon_grant(user=user, template_id=template.pk, source="test")

    return make


@pytest.fixture
def give_points():
    from quanzi.marketing.points import points_credit

    def give(user, amount: int):
        return points_credit(
            user_id=user.pk, amount=amount, reason="test", key=f"test:{next(_keys)}"
        )

    return give


@pytest.fixture
def place(make_address):
    """Place a normal order through the API; returns the response."""

    def run(user, lines, **extra):
        address = make_address(user)
        items = [{"sku_id": sku.pk, "qty": qty} for sku, qty in lines]
        return user.api.post("/orders", {"items": items, "address_id": address.pk, **extra})

    return run


@pytest.fixture
def pay():
    def run(user, order_id: int):
        payment = user.api.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
        assert payment.status_code == 200, payment.content
        done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
        assert done.status_code == 200, done.content
        return user.api.get(f"/orders/{order_id}").json()

    return run


@pytest.fixture
def deliver(operator):
    """Ship and confirm a paid order (completed, after-sales window open)."""

    def run(user, order_id: int):
        shipped = operator.api.post(
            f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
        )
        assert shipped.status_code == 200, shipped.content
        done = user.api.post(f"/orders/{order_id}/confirm-receipt")
        assert done.status_code == 200, done.content
        return done.json()

    return run


@pytest.fixture
def settle():
    from quanzi.orders.services import orders_settle_due

    def run():
        return orders_settle_due(now=timezone.now() + timedelta(days=30))

    return run


@pytest.fixture
def refund_all(operator):
    def run(user, order_id: int, lines=None):
        body = {"reason": "不要了"}
        if lines is not None:
            body["lines"] = lines
        refund = user.api.post(f"/orders/{order_id}/refunds", body)
        assert refund.status_code == 201, refund.content
        approved = operator.api.post(f"/admin/refunds/{refund.json()['id']}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "succeeded"
        return user.api.get(f"/orders/{order_id}").json()

    return run
