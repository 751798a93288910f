"""Where a refund's money comes from and where an order's money ends up."""

from datetime import timedelta

from django.utils import timezone

from quanzi.core.platform_settings import settings_update
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import orders_settle_due
from quanzi.payments.gateways.base import Notification
from quanzi.payments.models import Payment
from quanzi.payments.services import payment_capture


def _ship(operator, order_id):
    shipped = operator.api.post(
        f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF9"}
    )
    assert shipped.status_code == 200, shipped.content


def _order_funds(order_id: int) -> int:
    """What ``customer_funds`` holds for one order (a credit balance, so negated)."""
    return -sum(
        Posting.objects.filter(
            account__code="customer_funds", entry__order_id=order_id
        ).values_list("amount", flat=True)
    )


def test_full_refund_after_shipping_keeps_the_fee_as_revenue_and_empties_the_funds(
    customer, operator, make_product, buy
):
    settings_update(patch={"shipping": {"fee": 800, "free_above": 0}})
    sku = make_product(price=1000, supply_price=600).skus.get()
    order = buy(customer, sku, qty=2)
    assert order["payable"] == 2800
    _ship(operator, order["id"])
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "退货"}).json()
    assert refund["amount"] == 2000  # the goods; the shipping fee is not returned
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert balance("customer_funds") == 0 and _order_funds(order["id"]) == 0
    assert balance("platform_revenue") == -800
    assert balance("gateway:sandbox") == 800


def test_full_refund_before_shipping_returns_the_fee(customer, operator, make_product, buy):
    settings_update(patch={"shipping": {"fee": 800, "free_above": 0}})
    order = buy(customer, make_product(price=1000).skus.get())
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    assert refund["amount"] == 1800
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert balance("customer_funds") == 0 and balance("gateway:sandbox") == 0
    assert not JournalEntry.objects.filter(kind="shipping_kept").exists()


def test_duplicate_payment_returned_after_settlement_comes_out_of_the_customers_funds(
    customer, operator, make_product, buy
):
    sku = make_product(price=1000, supply_price=600).skus.get()
    order = buy(customer, sku)
    _ship(operator, order["id"])
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1
    revenue = balance("platform_revenue")
    assert revenue == -400
    # A second payment of the same order is captured after it settled (the customer
    # paid twice; the gateway's notice arrives late).
    twice = Payment.objects.create(
        order_id=order["id"], gateway="sandbox", out_trade_no="QZTWICE1", amount=1000
    )
    payment_capture(
        gateway="sandbox",
        note=Notification(
            out_trade_no="QZTWICE1", txn_id="TXN-TWICE", amount=1000, paid=True, raw={}
        ),
    )
    returned = Refund.objects.get(payment=twice)
    assert returned.kind == "unapplied" and returned.status == "succeeded"
    assert balance("platform_revenue") == revenue  # the platform gave back nothing of its own
    assert balance("customer_funds") == 0 and _order_funds(order["id"]) == 0
    assert balance("gateway:sandbox") == 1000
