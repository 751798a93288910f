"""Deposit mode: deposit → balance → shipped together and settled; deposit without a
balance → forfeited (platform revenue) or refunded by the pre-sale's rule; a cancelled
pre-sale refunds its deposits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.presale.models import Booking
from quanzi.presale.services import sales
from quanzi.presale.tests.conftest import ledger_green, move

pytestmark = pytest.mark.django_db


def _stock(sku) -> int:
    return SKU.objects.get(pk=sku.pk).stock


def test_deposit_then_balance_ships_both_and_settles(
    customer, operator, phone_sku, make_presale, shop
):
    sale = make_presale(price=9900, deposit=1000, deposit_value=2000)  # 膨胀: 10 yuan worth 20
    deposit = shop(customer, sale["id"], "deposit", qty=2)
    assert deposit["order"]["payable"] == 2000
    assert deposit["order"]["status"] == "to_ship"
    assert deposit["order"]["channel"] == "presale"
    assert deposit["order"]["channel_ref"] == f"{sale['id']}:deposit"
    assert _stock(phone_sku) == 48  # the booking holds the units
    booking_id = deposit["booking_id"]
    # Too early for the balance.
    early = shop(customer, sale["id"], "balance", booking_id=booking_id, expect=409)
    assert early["code"] == "balance_not_open"
    # The deposit order cannot ship on its own.
    refused = operator.api.post(
        f"/admin/orders/{deposit['order_id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "not_shippable"
    move(sale["id"], balance_starts_at=-10)
    balance_order = shop(customer, sale["id"], "balance", booking_id=booking_id)
    # Priced through the pipeline: (99 − 20) × 2.
    assert balance_order["order"]["payable"] == 2 * (9900 - 2000)
    assert balance_order["order"]["status"] == "to_ship"
    assert _stock(phone_sku) == 48  # no second take
    assert Booking.objects.get(pk=booking_id).status == "completed"
    ledger_green()

    shipped = operator.api.post(
        f"/admin/orders/{balance_order['order_id']}/ship", {"carrier": "顺丰", "tracking_no": "SF2"}
    )
    assert shipped.status_code == 200, shipped.content
    first = Order.objects.get(pk=deposit["order_id"])
    assert first.status == "shipped" and first.tracking_no == "SF2"  # the same parcel
    confirmed = customer.api.post(f"/orders/{balance_order['order_id']}/confirm-receipt")
    assert confirmed.status_code == 200
    first.refresh_from_db()
    assert first.status == "completed"

    from quanzi.orders.services import orders_settle_due

    revenue_before = balance(chart.PLATFORM_REVENUE)
    assert orders_settle_due(now=timezone.now() + timedelta(days=30)) == 2
    # The supplier is owed the supply price once (5000 × 2), from the balance order.
    supplier_lines = Order.objects.get(pk=deposit["order_id"]).lines.get()
    assert supplier_lines.supply_price == 0
    # Revenue: what the customer paid (2000 + 15800) less the supply cost (10000).
    # (Revenue is a credit account: it grows as its balance goes down.)
    assert revenue_before - balance(chart.PLATFORM_REVENUE) == 2000 + 15800 - 10000
    ledger_green()


def test_unpaid_balance_forfeits_the_deposit_to_revenue(customer, phone_sku, make_presale, shop):
    sale = make_presale(deposit=1500, unpaid_rule="forfeit")
    deposit = shop(customer, sale["id"], "deposit")
    move(sale["id"], balance_starts_at=-20)
    # A balance order started but never paid is cancelled by the sweep first.
    shop(customer, sale["id"], "balance", booking_id=deposit["booking_id"], pay=False)
    revenue_before = balance(chart.PLATFORM_REVENUE)
    move(sale["id"], balance_ends_at=-10)
    assert sales.bookings_close_unpaid_due() == 1
    assert sales.bookings_close_unpaid_due() == 0  # idempotent
    booking = Booking.objects.get(pk=deposit["booking_id"])
    assert booking.status == "forfeited" and booking.units_held == 0
    assert booking.balance_order_id is None
    assert _stock(phone_sku) == 50  # the unit is back on the shelf
    first = Order.objects.get(pk=deposit["order_id"])
    assert first.status == "completed" and first.settled_at is not None
    assert revenue_before - balance(chart.PLATFORM_REVENUE) == 1500  # credited to revenue
    assert not Refund.objects.filter(order=first).exists()
    assert sales.presales_decide_due() == 1
    ledger_green()


def test_unpaid_balance_refunds_the_deposit_by_rule(customer, phone_sku, make_presale, shop):
    sale = make_presale(deposit=1500, unpaid_rule="refund")
    deposit = shop(customer, sale["id"], "deposit", qty=3)
    move(sale["id"], balance_starts_at=-20, balance_ends_at=-10)
    assert sales.bookings_close_unpaid_due() == 1
    refund = Refund.objects.get(order_id=deposit["order_id"])
    assert refund.status == "succeeded" and refund.amount == 4500
    assert refund.payment.gateway == "sandbox"  # along the original path
    booking = Booking.objects.get(pk=deposit["booking_id"])
    assert booking.status == "refunded" and booking.units_held == 0
    assert Order.objects.get(pk=deposit["order_id"]).status == "refunded"
    assert _stock(phone_sku) == 50
    assert sales.bookings_close_unpaid_due() == 0
    ledger_green()


def test_operator_cancelling_refunds_deposits_and_cancels_unpaid(
    customer, make_user, operator, phone_sku, make_presale, shop
):
    sale = make_presale(deposit=1000)
    paid = shop(customer, sale["id"], "deposit")
    late = make_user(nickname="犹豫")
    unpaid = shop(late, sale["id"], "deposit", pay=False)
    answer = operator.api.post(f"/admin/presale/sales/{sale['id']}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert Order.objects.get(pk=paid["order_id"]).status == "refunded"
    assert Order.objects.get(pk=unpaid["order_id"]).status == "cancelled"
    assert Refund.objects.get(order_id=paid["order_id"]).status == "succeeded"
    assert _stock(phone_sku) == 50
    again = shop(make_user(), sale["id"], "deposit", expect=409)
    assert again["code"] == "presale_closed"
    assert sales.bookings_unwind_due() == 0
    ledger_green()


def test_a_balance_refunded_before_shipping_refunds_its_deposit(
    customer, operator, phone_sku, make_presale, shop
):
    sale = make_presale(deposit=1000)
    deposit = shop(customer, sale["id"], "deposit", qty=2)
    move(sale["id"], balance_starts_at=-10)
    paid = shop(customer, sale["id"], "balance", booking_id=deposit["booking_id"])
    asked = customer.api.post(f"/orders/{paid['order_id']}/refunds", {"reason": "不想要了"})
    assert asked.status_code == 201, asked.content
    approved = operator.api.post(f"/admin/refunds/{asked.json()['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert Order.objects.get(pk=paid["order_id"]).status == "refunded"
    deposit_refund = Refund.objects.get(order_id=deposit["order_id"])
    assert deposit_refund.status == "succeeded" and deposit_refund.amount == 2000
    assert Order.objects.get(pk=deposit["order_id"]).status == "refunded"
    assert Booking.objects.get(pk=deposit["booking_id"]).status == "refunded"
    assert _stock(phone_sku) == 50
    ledger_green()


def test_idempotent_deposit_order_and_limits(customer, make_presale, shop):
    sale = make_presale(deposit=1000, per_user_limit=2)
    body = {"phase": "deposit", "qty": 2}
    key = {"Idempotency-Key": "presale-deposit-1"}
    first = customer.api.post(f"/presale/sales/{sale['id']}/orders", body, headers=key)
    again = customer.api.post(f"/presale/sales/{sale['id']}/orders", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["order_id"] == again.json()["order_id"]
    assert Booking.objects.filter(user=customer).count() == 1
    over = shop(customer, sale["id"], "deposit", qty=1, expect=409)
    assert over["code"] == "limit_exceeded"
    ledger_green()
