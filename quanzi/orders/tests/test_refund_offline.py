"""A refund the gateway never completes is paid back offline by the operator."""

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import SandboxRecord
from quanzi.payments.services import refunds_retry

PROOF = {"reference": "ICBC-20261205-0042", "evidence": "银行转账至买家尾号 8831 的储蓄卡"}


@pytest.fixture
def stuck(customer, operator, make_product, buy, monkeypatch):
    """A paid order whose refund the gateway keeps refusing (the card was closed)."""
    order = buy(customer, make_product(price=1000).skus.get(), qty=2)
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}).json()
    monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Refund.objects.get(pk=refund["id"]).status == "processing"
    return order, refund


def test_operator_completes_a_stuck_refund_offline(customer, operator, stuck, monkeypatch):
    order, refund = stuck
    done = operator.api.post(f"/admin/refunds/{refund['id']}/complete-manually", PROOF)
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "succeeded" and body["offline_reference"] == PROOF["reference"]
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    row = Refund.objects.get(pk=refund["id"])
    assert row.offline_evidence == PROOF["evidence"] and row.offline_by_id == operator.pk
    # Booked: the customer's funds are empty, the gateway's money covered the transfer.
    assert balance("customer_funds") == 0 and balance("gateway:sandbox") == 0
    assert balance("refunds_offline") == 0
    assert JournalEntry.objects.filter(refund_id=refund["id"]).count() == 2
    # The gateway recovering later changes nothing: the retry sweep leaves it alone.
    monkeypatch.setattr(SandboxGateway, "fail_refunds", False)
    assert refunds_retry(now=timezone.now() + timedelta(days=2)) == 0
    assert not SandboxRecord.objects.filter(kind="refund").exists()


def test_completing_twice_completes_once(operator, stuck):
    _, refund = stuck
    first = operator.api.post(f"/admin/refunds/{refund['id']}/complete-manually", PROOF)
    again = operator.api.post(
        f"/admin/refunds/{refund['id']}/complete-manually",
        {"reference": "OTHER", "evidence": "again"},
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["offline_reference"] == PROOF["reference"]
    assert JournalEntry.objects.filter(refund_id=refund["id"]).count() == 2


def test_proof_is_required_and_only_operators_may_complete(customer, operator, stuck):
    _, refund = stuck
    path = f"/admin/refunds/{refund['id']}/complete-manually"
    blank = operator.api.post(path, {"reference": "  ", "evidence": "转账"})
    assert blank.status_code == 422 and blank.json()["code"] == "invalid_offline_proof"
    assert blank.json()["detail"] == {"field": "reference"}
    missing = operator.api.post(path, {"reference": "R1"})
    assert missing.status_code == 422 and set(missing.json()) == {"code", "message", "detail"}
    assert customer.api.post(path, PROOF).status_code == 403
    assert operator.api.post("/admin/refunds/999999/complete-manually", PROOF).status_code == 404
    assert Refund.objects.get(pk=refund["id"]).status == "processing"


def test_only_approved_refunds_not_paid_by_the_gateway_can_be_completed(
    customer, operator, make_product, buy
):
    order = buy(customer, make_product(price=1000).skus.get())
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}).json()
    path = f"/admin/refunds/{refund['id']}/complete-manually"
    requested = operator.api.post(path, PROOF)
    assert requested.status_code == 409 and requested.json()["code"] == "invalid_transition"
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")  # the gateway pays it
    paid = operator.api.post(path, PROOF)
    assert paid.status_code == 409 and paid.json()["code"] == "refund_already_paid"
    assert SandboxRecord.objects.filter(kind="refund").count() == 1
