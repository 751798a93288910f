"""Sandbox notifications delivered twice, late, out of order or tampered with."""

import json

from quanzi.catalog.models import SKU
from quanzi.ledger.models import JournalEntry
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import orders_expire_unpaid
from quanzi.payments.models import Payment, PaymentEvent


def _place(user, sku, make_address, qty=1):
    address = make_address(user)
    return user.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": qty}], "address_id": address.pk}
    ).json()


def _deliver(anon, notification):
    return anon.client.post(
        "/api/v1/payments/notify/sandbox",
        data=notification["body"],
        content_type="application/json",
        headers=notification["headers"],
    )


def test_notification_delivered_twice_pays_once(customer, anon, sku, make_address):
    order = _place(customer, sku, make_address)
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    done = customer.api.post(f"/payments/sandbox/{payment['payment_id']}/complete").json()
    again = _deliver(anon, done["notification"])
    assert again.status_code == 200
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert JournalEntry.objects.filter(kind="payment", order_id=order["id"]).count() == 1
    assert (
        PaymentEvent.objects.filter(
            payment_id=payment["payment_id"], kind="duplicate_notification"
        ).count()
        == 1
    )


def test_tampered_notification_is_refused_and_pays_nothing(customer, anon, sku, make_address):
    order = _place(customer, sku, make_address)
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    from quanzi.payments.gateways import get_gateway

    note = get_gateway("sandbox").build_notification(
        out_trade_no=Payment.objects.get(pk=payment["payment_id"]).out_trade_no,
        amount=payment["amount"],
    )
    body = json.loads(note["body"])
    body["amount"] = 1  # pay one fen for the whole order
    forged = {"headers": note["headers"], "body": json.dumps(body, separators=(",", ":"))}
    response = _deliver(anon, forged)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    unsigned = {"headers": {}, "body": note["body"]}
    assert _deliver(anon, unsigned).status_code == 400
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert not JournalEntry.objects.exists()


def test_notification_with_wrong_amount_is_refused(customer, anon, sku, make_address):
    order = _place(customer, sku, make_address)
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    from quanzi.payments.gateways import get_gateway

    note = get_gateway("sandbox").build_notification(
        out_trade_no=Payment.objects.get(pk=payment["payment_id"]).out_trade_no,
        amount=payment["amount"] - 1,
    )
    assert _deliver(anon, note).status_code == 400
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"


def test_late_payment_for_a_cancelled_order_is_refunded_and_stock_not_sold_twice(
    customer, anon, sku, make_address
):
    from datetime import timedelta

    from django.utils import timezone

    order = _place(customer, sku, make_address, qty=3)
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    from quanzi.payments.gateways import get_gateway

    gw = get_gateway("sandbox")
    note = gw.build_notification(
        out_trade_no=Payment.objects.get(pk=payment["payment_id"]).out_trade_no,
        amount=payment["amount"],
    )
    # The payment window passes and the sweep cancels the order before the notification arrives.
    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=16)) == 1
    assert SKU.objects.get(pk=sku.pk).stock == 100
    assert _deliver(anon, note).status_code == 200
    order_row = Order.objects.get(pk=order["id"])
    assert order_row.status == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == 100
    refund = Refund.objects.get(payment_id=payment["payment_id"])
    assert (
        refund.kind == "unapplied"
        and refund.status == "succeeded"
        and refund.amount == payment["amount"]
    )
    assert JournalEntry.objects.filter(kind="payment_unapplied").count() == 1
    assert _deliver(anon, note).status_code == 200  # and again: still one refund
    assert Refund.objects.filter(payment_id=payment["payment_id"]).count() == 1


def test_out_of_order_second_payment_of_a_paid_order_is_returned(customer, anon, sku, make_address):
    """Two payment attempts; the older one's notification arrives after the newer paid."""
    order = _place(customer, sku, make_address)
    first = Payment.objects.get(
        pk=customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()[
            "payment_id"
        ]
    )
    # The customer's app retries with a fresh payment (e.g. after a price check).
    second = Payment.objects.create(
        order_id=order["id"], gateway="sandbox", out_trade_no="QZSECOND", amount=first.amount
    )
    from quanzi.payments.gateways import get_gateway

    gw = get_gateway("sandbox")
    note_second = gw.build_notification(out_trade_no=second.out_trade_no, amount=second.amount)
    note_first = gw.build_notification(out_trade_no=first.out_trade_no, amount=first.amount)
    assert _deliver(anon, note_second).status_code == 200
    assert _deliver(anon, note_first).status_code == 200
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert Payment.objects.get(pk=second.pk).applied is True
    assert Payment.objects.get(pk=first.pk).applied is False
    refund = Refund.objects.get(payment=first)
    assert refund.status == "succeeded" and refund.amount == first.amount
    assert JournalEntry.objects.filter(kind="payment", order_id=order["id"]).count() == 1


def test_unknown_gateway_and_unknown_payment(anon):
    assert (
        anon.client.post(
            "/api/v1/payments/notify/paypal", data="{}", content_type="application/json"
        ).status_code
        == 422
    )
    from quanzi.payments.gateways import get_gateway

    note = get_gateway("sandbox").build_notification(out_trade_no="NOPE", amount=100)
    assert _deliver(anon, note).status_code == 400


def test_someone_elses_order_cannot_be_paid_or_completed(customer, make_user, sku, make_address):
    order = _place(customer, sku, make_address)
    other = make_user()
    assert other.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).status_code == 404
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    assert other.api.post(f"/payments/sandbox/{payment['payment_id']}/complete").status_code == 404
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"


def test_paying_again_resumes_the_same_payment(customer, sku, make_address):
    order = _place(customer, sku, make_address)
    one = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    two = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    assert one["payment_id"] == two["payment_id"]
    assert (
        customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "bitcoin"}).status_code == 422
    )


def test_production_refuses_the_sandbox(customer, sku, make_address, settings):
    settings.SANDBOX_ENABLED = False
    order = _place(customer, sku, make_address)
    response = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
    assert response.status_code == 422 and response.json()["code"] == "gateway_disabled"


def test_lost_notification_is_recovered_by_querying_the_gateway(customer, sku, make_address):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.payments.gateways import get_gateway
    from quanzi.payments.services import payments_reconcile

    order = _place(customer, sku, make_address)
    payment = Payment.objects.get(
        pk=customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()[
            "payment_id"
        ]
    )
    # The customer paid at the gateway, but the notification never reached the shop.
    get_gateway("sandbox").record_charge(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="SBXLOST1"
    )
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert payments_reconcile(now=timezone.now()) == 0  # too fresh to ask yet
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=2)) == 1
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert Payment.objects.get(pk=payment.pk).gateway_txn_id == "SBXLOST1"
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=3)) == 0
