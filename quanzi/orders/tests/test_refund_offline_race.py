"""On PostgreSQL: an operator completing a refund offline while the gateway's
confirmation is booked, all at once, books the refund exactly once."""

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import JournalEntry
from quanzi.orders.models import Order, Refund
from quanzi.orders.refunds import refund_book_success, refund_request
from quanzi.orders.refunds_offline import refund_complete_offline
from quanzi.orders.services import order_place
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.services import payment_create, refund_execute, sandbox_complete

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel clients are tested on PostgreSQL")


def test_offline_completion_racing_the_gateway_books_once(
    make_user, operator, make_product, make_address, monkeypatch
):
    user = make_user()
    sku = make_product(price=1000, stock=5).skus.get()
    order = order_place(
        user=user, items=[{"sku_id": sku.pk, "qty": 2}], address_id=make_address(user).pk
    )
    payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
    sandbox_complete(payment_id=payment.pk, user=user)
    refund = refund_request(order_id=order.pk, user=user, lines=None, reason="x")
    monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
    Refund.objects.filter(pk=refund.pk).update(status="approved")
    refund_execute(refund_id=refund.pk)
    assert Refund.objects.get(pk=refund.pk).status == "processing"

    def offline(i):
        refund_complete_offline(
            refund_id=refund.pk, operator=operator, reference=f"BANK-{i}", evidence="转账"
        )
        return "offline"

    def gateway(i):
        refund_book_success(refund_id=refund.pk, gateway_refund_id=f"SBX-{i}")
        return "gateway"

    results = race([lambda i=i: (offline if i % 2 else gateway)(i) for i in range(6)])
    assert set(results) <= {"offline", "gateway", "refund_already_paid"}, results
    row = Refund.objects.get(pk=refund.pk)
    assert row.status == "succeeded"
    entries = JournalEntry.objects.filter(refund_id=refund.pk).count()
    assert entries == (2 if row.offline_reference else 1)
    final = Order.objects.get(pk=order.pk)
    assert final.status == "refunded" and final.refunded_amount == 2000
    assert run_checks()[0] == []
