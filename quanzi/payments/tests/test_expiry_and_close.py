"""A payment lives no longer than its order's payment window, at the gateway too: it is
created with the order's deadline, closed at the gateway when the order is cancelled
(after commit; retried by the reconcile sweep when the gateway is down), and money that
reached a cancelled order with every notification lost is found and paid back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways import get_gateway
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import Payment
from quanzi.payments.services import payments_reconcile


@pytest.fixture
def started(customer, sku, make_address):
    """An order placed and its sandbox payment started (the QR code is on screen)."""
    address = make_address(customer)
    order = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    answer = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
    assert answer.status_code == 200, answer.content
    return Order.objects.get(pk=order["id"]), Payment.objects.get(pk=answer.json()["payment_id"])


def gateway_down(monkeypatch):
    def unreachable(self, **kwargs):
        raise ConnectionError("sandbox unreachable (simulated)")

    monkeypatch.setattr(SandboxGateway, "close", unreachable)
    monkeypatch.setattr(SandboxGateway, "query", unreachable)


def test_the_gateway_refuses_to_take_money_after_the_orders_deadline(
    monkeypatch, customer, started
):
    order, payment = started
    assert payment.params["expires_at"] == order.expires_at.isoformat()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=16))

    late = customer.api.post(f"/payments/sandbox/{payment.pk}/complete")

    assert late.status_code == 409 and late.json()["code"] == "payment_expired"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert Payment.objects.get(pk=payment.pk).status == "created"


def test_cancelling_closes_the_trade_at_the_gateway(customer, started):
    order, payment = started

    assert customer.api.post(f"/orders/{order.pk}/cancel").status_code == 200

    assert Payment.objects.get(pk=payment.pk).status == "closed"
    again = customer.api.post(f"/payments/sandbox/{payment.pk}/complete")
    assert again.status_code == 409 and again.json()["code"] == "payment_closed"
    assert not Refund.objects.exists()


def test_a_close_that_failed_is_done_by_the_reconcile_sweep(monkeypatch, customer, started):
    order, payment = started
    with monkeypatch.context() as down:
        gateway_down(down)
        assert customer.api.post(f"/orders/{order.pk}/cancel").status_code == 200
        assert Payment.objects.get(pk=payment.pk).status == "created"
        payments_reconcile(now=timezone.now() + timedelta(minutes=2))  # still down: no harm
        assert Payment.objects.get(pk=payment.pk).status == "created"

    payments_reconcile(now=timezone.now() + timedelta(minutes=3))

    assert Payment.objects.get(pk=payment.pk).status == "closed"


def test_money_on_a_cancelled_order_whose_notifications_were_lost_is_found_and_refunded(
    monkeypatch, customer, started
):
    order, payment = started
    with monkeypatch.context() as down:
        gateway_down(down)
        assert customer.api.post(f"/orders/{order.pk}/cancel").status_code == 200
    # The customer had paid at the gateway just before; every notification was lost.
    get_gateway("sandbox").record_charge(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="SBXLOST1"
    )

    assert payments_reconcile(now=timezone.now() + timedelta(minutes=2)) == 1

    payment.refresh_from_db()
    assert payment.status == "succeeded" and not payment.applied
    refund = Refund.objects.get(payment=payment)
    assert refund.kind == "unapplied" and refund.status == "succeeded"
    assert refund.amount == payment.amount
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_closing_a_trade_the_customer_already_paid_captures_and_refunds_it(customer, started):
    order, payment = started
    get_gateway("sandbox").record_charge(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="SBXLOST2"
    )

    assert customer.api.post(f"/orders/{order.pk}/cancel").status_code == 200

    refund = Refund.objects.get(payment=payment)
    assert refund.kind == "unapplied" and refund.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_reconciliation_of_cancelled_orders_stops_after_its_period(monkeypatch, customer, started):
    order, payment = started
    with monkeypatch.context() as down:
        gateway_down(down)
        assert customer.api.post(f"/orders/{order.pk}/cancel").status_code == 200
    asked = []
    monkeypatch.setattr(SandboxGateway, "query", lambda self, **kw: asked.append(kw))

    payments_reconcile(now=timezone.now() + timedelta(days=30))

    assert asked == []
