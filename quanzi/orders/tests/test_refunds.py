"""After-sales refunds: partial, full, too much, twice, rejected, retried."""

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import SandboxRecord
from quanzi.payments.services import refunds_retry


@pytest.fixture
def paid(customer, make_product, buy):
    sku = make_product(price=1000, stock=50).skus.get()
    return buy(customer, sku, qty=3), sku


def test_partial_refund_of_one_unit_then_the_rest(customer, operator, paid):
    order, sku = paid
    line = order["lines"][0]
    response = customer.api.post(
        f"/orders/{order['id']}/refunds",
        {"lines": [{"line_id": line["id"], "qty": 1}], "reason": "坏了一个"},
    )
    assert response.status_code == 201
    refund = response.json()
    assert refund["amount"] == 1000 and refund["status"] == "requested"
    assert Order.objects.get(pk=order["id"]).status == "refunding"
    approve = operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert approve.status_code == 200 and approve.json()["status"] == "succeeded"
    after = customer.api.get(f"/orders/{order['id']}").json()
    assert after["status"] == "to_ship" and after["refunded_amount"] == 1000
    assert after["lines"][0]["refunded_qty"] == 1
    assert SKU.objects.get(pk=sku.pk).stock == 48  # one unit back on the shelf
    rest = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    assert rest["amount"] == 2000
    operator.api.post(f"/admin/refunds/{rest['id']}/approve")
    final = customer.api.get(f"/orders/{order['id']}").json()
    assert final["status"] == "refunded" and final["refunded_amount"] == 3000
    assert balance("gateway:sandbox") == 0


def test_refund_more_than_bought_is_refused(customer, paid):
    order, _ = paid
    line = order["lines"][0]
    response = customer.api.post(
        f"/orders/{order['id']}/refunds", {"lines": [{"line_id": line["id"], "qty": 4}]}
    )
    assert response.status_code == 422 and response.json()["code"] == "refund_exceeds_purchase"
    foreign = customer.api.post(
        f"/orders/{order['id']}/refunds", {"lines": [{"line_id": 999999, "qty": 1}]}
    )
    assert foreign.status_code == 422
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_approve_twice_refunds_once(customer, operator, paid):
    order, _ = paid
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}).json()
    first = operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    second = operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert first.status_code == second.status_code == 200
    assert SandboxRecord.objects.filter(kind="refund").count() == 1
    assert Order.objects.get(pk=order["id"]).refunded_amount == 3000


def test_one_refund_at_a_time(customer, paid):
    order, _ = paid
    assert customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "a"}).status_code == 201
    second = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "b"})
    assert second.status_code == 409 and second.json()["code"] == "refund_in_progress"


def test_rejected_refund_returns_the_order_to_its_state(customer, operator, paid):
    order, _ = paid
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "a"}).json()
    response = operator.api.post(f"/admin/refunds/{refund['id']}/reject", {"reason": "已发货"})
    assert response.json()["status"] == "rejected"
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert operator.api.post(f"/admin/refunds/{refund['id']}/approve").status_code == 409


def test_refund_after_shipping_does_not_restock(customer, operator, paid):
    order, sku = paid
    operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF2"}
    )
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "退货"}).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert SKU.objects.get(pk=sku.pk).stock == 47


def test_unpaid_order_cannot_be_refunded(customer, make_product, buy):
    order = buy(customer, make_product().skus.get(), pay=False)
    response = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"})
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


def test_after_sales_window_closes_customer_refunds(customer, operator, paid):
    order, _ = paid
    operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF3"}
    )
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    Order.objects.filter(pk=order["id"]).update(
        after_sales_ends_at=timezone.now() - timedelta(seconds=1)
    )
    response = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "late"})
    assert response.status_code == 422 and response.json()["code"] == "after_sales_closed"


def test_refund_after_settlement_by_operator_comes_out_of_revenue(customer, operator, paid):
    from quanzi.orders.services import orders_settle_due

    order, _ = paid
    operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF4"}
    )
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1
    response = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "goodwill"})
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    assert balance("gateway:sandbox") == 0
    assert balance("customer_funds") == 0


def test_gateway_failure_is_retried_until_it_confirms(customer, operator, paid, monkeypatch):
    order, _ = paid
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}).json()
    monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    row = Refund.objects.get(pk=refund["id"])
    assert row.status == "processing" and row.attempts == 1 and row.last_error
    assert Order.objects.get(pk=order["id"]).status == "refunding"
    assert refunds_retry(now=timezone.now()) == 0  # not due yet (backoff)
    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 0  # still failing
    monkeypatch.setattr(SandboxGateway, "fail_refunds", False)
    assert refunds_retry(now=timezone.now() + timedelta(hours=2)) == 1
    assert Refund.objects.get(pk=refund["id"]).status == "succeeded"
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert refunds_retry(now=timezone.now() + timedelta(hours=3)) == 0


def test_crash_between_gateway_and_booking_is_completed_by_the_sweep(
    customer, operator, paid, monkeypatch
):
    """The gateway refunded, the process died before booking: the retry books it once."""
    import quanzi.payments.services as payment_services

    order, _ = paid
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}).json()

    def crash(**kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(payment_services, "refund_book_success", crash)
    operator.api.post(
        f"/admin/refunds/{refund['id']}/approve"
    )  # the task fails after the gateway call
    assert Refund.objects.get(pk=refund["id"]).status == "processing"
    assert SandboxRecord.objects.filter(kind="refund").count() == 1
    monkeypatch.undo()
    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 1
    assert SandboxRecord.objects.filter(kind="refund").count() == 1  # the gateway paid once
    assert Order.objects.get(pk=order["id"]).refunded_amount == 3000
