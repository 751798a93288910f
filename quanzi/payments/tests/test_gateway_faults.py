"""The payment gateway misbehaving on pay and refund: it times out (before or after doing
the work), errors, or answers twice. Whatever it does, the customer's money moves once
and the books say so once."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways import get_gateway
from quanzi.payments.models import Payment, PaymentEvent, SandboxRecord
from quanzi.payments.services import (
    notification_handle,
    payment_create,
    payments_reconcile,
    refunds_retry,
)
from quanzi.simulation.faults import GatewayFaults


@pytest.fixture
def faults(db):
    """The sandbox gateway under control: ``faults.forced`` lists the next calls' fates."""
    injector = GatewayFaults(random.Random(0))
    injector.enabled = False
    with injector.installed():
        yield injector


def _later(hours: int = 2):
    return timezone.now() + timedelta(hours=hours)


def _refund_everything(operator, order) -> Refund:
    response = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "缺货"})
    assert response.status_code == 201, response.content
    return Refund.objects.get(pk=response.json()["id"])


def _gateway_refunds(refund: Refund) -> int:
    return SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).count()


def _refund_entries(refund: Refund) -> int:
    return JournalEntry.objects.filter(refund_id=refund.pk, kind="refund").count()


@pytest.mark.parametrize("fate", ["timeout_before", "timeout_after", "error"])
def test_a_refund_the_gateway_does_not_confirm_is_paid_once_by_the_retry(
    fate, faults, customer, operator, sku, buy
):
    order = buy(customer, sku, qty=2)
    faults.forced = [fate]

    refund = _refund_everything(operator, order)

    refund.refresh_from_db()
    assert refund.status == "processing"
    assert Order.objects.get(pk=order["id"]).status == "refunding"
    assert _refund_entries(refund) == 0
    # A timeout after the work: the gateway paid, but nobody heard it.
    assert _gateway_refunds(refund) == (1 if fate == "timeout_after" else 0)

    assert refunds_retry(now=_later()) == 1

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert _gateway_refunds(refund) == 1
    assert _refund_entries(refund) == 1
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert balance("gateway:sandbox") == 0  # all that came in went back, once
    assert refunds_retry(now=_later(48)) == 0  # nothing left to do


def test_a_refund_the_gateway_answers_twice_is_booked_once(faults, customer, operator, sku, buy):
    order = buy(customer, sku)
    faults.forced = ["twice"]

    refund = _refund_everything(operator, order)

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert _gateway_refunds(refund) == 1
    assert _refund_entries(refund) == 1
    assert balance("gateway:sandbox") == 0


def test_a_refund_retried_while_the_gateway_keeps_failing_stays_open_and_never_books(
    faults, customer, operator, sku, buy
):
    order = buy(customer, sku)
    faults.forced = ["error", "timeout_before", "error"]

    refund = _refund_everything(operator, order)
    refunds_retry(now=_later())
    refunds_retry(now=_later(8))

    refund.refresh_from_db()
    assert refund.status == "processing" and refund.attempts == 3
    assert _gateway_refunds(refund) == 0 and _refund_entries(refund) == 0
    assert balance("gateway:sandbox") == order["payable"]  # the money is still there

    assert refunds_retry(now=_later(48)) == 1
    assert _gateway_refunds(refund) == 1 and _refund_entries(refund) == 1


def _start_payment(customer, make_address, sku) -> Payment:
    address = make_address(customer)
    placed = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    )
    assert placed.status_code == 201, placed.content
    return payment_create(order_id=placed.json()["id"], user=customer, gateway="sandbox")


def _customer_pays(payment: Payment) -> dict:
    """The customer pays at the gateway; returns the notification it will send."""
    gw = get_gateway("sandbox")
    notification = gw.build_notification(out_trade_no=payment.out_trade_no, amount=payment.amount)
    parsed = gw.parse_notification(
        headers=notification["headers"], body=notification["body"].encode()
    )
    gw.record_charge(out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=parsed.txn_id)
    return notification


def _payment_entries(payment: Payment) -> int:
    return JournalEntry.objects.filter(payment_id=payment.pk).count()


def test_a_payment_whose_notification_times_out_is_found_by_reconciliation_once(
    customer, make_address, sku
):
    payment = _start_payment(customer, make_address, sku)
    notification = _customer_pays(payment)  # …and the notification never arrives

    assert payments_reconcile(now=_later(), older_than_seconds=60) == 1
    # The gateway retries its notification long after: it changes nothing.
    notification_handle(
        gateway="sandbox", headers=notification["headers"], body=notification["body"].encode()
    )

    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.applied
    assert Order.objects.get(pk=payment.order_id).status == "to_ship"
    assert _payment_entries(payment) == 1
    assert balance("gateway:sandbox") == payment.amount
    assert payments_reconcile(now=_later(3), older_than_seconds=60) == 0


def test_a_payment_notified_twice_is_captured_once(customer, make_address, sku):
    payment = _start_payment(customer, make_address, sku)
    notification = _customer_pays(payment)
    body = notification["body"].encode()

    for _ in range(2):
        notification_handle(gateway="sandbox", headers=notification["headers"], body=body)

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert _payment_entries(payment) == 1
    kinds = list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds.count("captured") == 1 and kinds.count("duplicate_notification") == 1
    assert balance("gateway:sandbox") == payment.amount


def test_a_payment_start_that_fails_at_the_gateway_leaves_no_payment_and_can_be_retried(
    monkeypatch, customer, make_address, sku
):
    from quanzi.simulation.faults import GatewayTimeout

    address = make_address(customer)
    placed = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    )
    order_id = placed.json()["id"]
    gw = get_gateway("sandbox")
    real_create = gw.create
    calls = []

    def create_times_out_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise GatewayTimeout("sandbox create timed out")
        return real_create(**kwargs)

    monkeypatch.setattr(gw, "create", create_times_out_once)

    with pytest.raises(GatewayTimeout):
        payment_create(order_id=order_id, user=customer, gateway="sandbox")
    assert not Payment.objects.filter(order_id=order_id).exists()

    payment = payment_create(order_id=order_id, user=customer, gateway="sandbox")
    again = payment_create(order_id=order_id, user=customer, gateway="sandbox")

    assert again.pk == payment.pk
    assert Payment.objects.filter(order_id=order_id).count() == 1
    assert Order.objects.get(pk=order_id).status == "pending_payment"


def test_paying_a_trade_already_paid_at_the_gateway_sends_that_charges_notification(
    customer, make_address, sku
):
    """The customer paid, the notification is late, and the pay button is pressed again:
    the sandbox, like a real gateway, does not charge the trade twice, and the late
    notification is the same transaction, not a conflicting one."""
    from quanzi.payments.services import sandbox_complete

    payment = _start_payment(customer, make_address, sku)
    late = _customer_pays(payment)

    again = sandbox_complete(payment_id=payment.pk, user=customer)
    notification_handle(
        gateway="sandbox", headers=late["headers"], body=late["body"].encode()
    )  # no "a different transaction for a captured payment"

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.gateway_txn_id == json.loads(late["body"])["transaction_id"]
    assert json.loads(again["body"])["transaction_id"] == payment.gateway_txn_id
    assert SandboxRecord.objects.filter(kind="charge", number=payment.out_trade_no).count() == 1
    assert _payment_entries(payment) == 1
