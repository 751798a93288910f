"""PostgreSQL aborting a transaction midway — a serialization failure (40001) or a deadlock
(40P01) — is retried where that is safe, and never has a double effect.

The fault is real: a trigger raises the SQLSTATE from inside the database on a chosen
table, a set number of times (counted by a sequence, which a rollback does not undo), so
the transaction is aborted by PostgreSQL itself, halfway through its statements.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import order_confirm_receipt, order_ship, orders_settle_due
from quanzi.payments.gateways import get_gateway
from quanzi.payments.models import Payment, PaymentEvent, SandboxRecord
from quanzi.payments.services import notification_handle, payment_create, refunds_retry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SERIALIZATION_FAILURE, DEADLOCK = "40001", "40P01"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the faults are raised by PostgreSQL itself")


@contextlib.contextmanager
def db_fault(table: str, sqlstate: str, *, times: int = 1, on: str = "INSERT"):
    """The next ``times`` ``on`` statements on ``table`` fail with ``sqlstate``."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE quanzi_fault_seq")
        cursor.execute(
            f"""
            CREATE FUNCTION quanzi_fault() RETURNS trigger AS $$
            BEGIN
                IF nextval('quanzi_fault_seq') <= {int(times)} THEN
                    RAISE EXCEPTION 'injected fault' USING ERRCODE = '{sqlstate}';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
        cursor.execute(
            f'CREATE TRIGGER quanzi_fault BEFORE {on} ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION quanzi_fault()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TRIGGER IF EXISTS quanzi_fault ON "{table}"')
            cursor.execute("DROP FUNCTION IF EXISTS quanzi_fault()")
            cursor.execute("DROP SEQUENCE IF EXISTS quanzi_fault_seq")


def _fault_fired() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_called FROM quanzi_fault_seq")
        return cursor.fetchone()[0]


def _unpaid(customer, make_address, sku) -> Payment:
    placed = customer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 2}], "address_id": make_address(customer).pk},
    )
    assert placed.status_code == 201, placed.content
    return payment_create(order_id=placed.json()["id"], user=customer, gateway="sandbox")


def _notification(payment: Payment) -> tuple[dict, bytes]:
    gw = get_gateway("sandbox")
    built = gw.build_notification(out_trade_no=payment.out_trade_no, amount=payment.amount)
    return built["headers"], built["body"].encode()


@pytest.mark.parametrize("sqlstate", [SERIALIZATION_FAILURE, DEADLOCK])
def test_a_capture_aborted_by_the_database_is_run_again_and_captured_once(
    sqlstate, customer, make_address, sku
):
    payment = _unpaid(customer, make_address, sku)
    headers, body = _notification(payment)

    # The ledger's postings come last in the capture: the order was already marked paid.
    with db_fault("ledger_posting", sqlstate, times=1):
        notification_handle(gateway="sandbox", headers=headers, body=body)
        assert _fault_fired()

    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.applied
    assert Order.objects.get(pk=payment.order_id).status == "to_ship"
    assert JournalEntry.objects.filter(payment_id=payment.pk).count() == 1
    assert PaymentEvent.objects.filter(payment=payment, kind="captured").count() == 1
    assert balance("gateway:sandbox") == payment.amount


def test_a_capture_that_keeps_failing_leaves_nothing_and_the_gateways_redelivery_captures_once(
    customer, make_address, sku
):
    payment = _unpaid(customer, make_address, sku)
    headers, body = _notification(payment)

    with db_fault("ledger_posting", DEADLOCK, times=10):
        with pytest.raises(OperationalError):
            notification_handle(gateway="sandbox", headers=headers, body=body)

    # Nothing of the capture stayed: not the order's status, not the payment's.
    payment.refresh_from_db()
    assert payment.status == "created"
    assert Order.objects.get(pk=payment.order_id).status == "pending_payment"
    assert not JournalEntry.objects.filter(payment_id=payment.pk).exists()

    notification_handle(gateway="sandbox", headers=headers, body=body)  # the gateway retries
    notification_handle(gateway="sandbox", headers=headers, body=body)  # …and once more

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert JournalEntry.objects.filter(payment_id=payment.pk).count() == 1
    assert balance("gateway:sandbox") == payment.amount


def test_an_order_placed_under_an_idempotency_key_is_retried_and_placed_once(
    customer, make_address, sku
):
    address = make_address(customer)
    body = {"items": [{"sku_id": sku.pk, "qty": 3}], "address_id": address.pk}
    key = {"Idempotency-Key": "order-1"}

    # The stock reservation is an UPDATE on the SKU row, early in the placement.
    with db_fault("catalog_sku", SERIALIZATION_FAILURE, times=1, on="UPDATE"):
        first = customer.api.post("/orders", body, headers=key)
    again = customer.api.post("/orders", body, headers=key)

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Order.objects.filter(user=customer).count() == 1
    sku.refresh_from_db()
    assert sku.stock == 97  # reserved once


def _completed(customer, make_address, sku) -> Order:
    payment = _unpaid(customer, make_address, sku)
    headers, body = _notification(payment)
    notification_handle(gateway="sandbox", headers=headers, body=body)
    order_ship(order_id=payment.order_id, carrier="顺丰", tracking_no="SF1")
    return order_confirm_receipt(order_id=payment.order_id, user=customer)


def test_a_settlement_chunk_hit_by_deadlocks_settles_every_order_exactly_once(
    customer, make_address, sku
):
    orders = [_completed(customer, make_address, sku) for _ in range(3)]
    later = timezone.now() + timedelta(days=8)

    # The chunk fails, then the first order alone fails again: it waits for the next run.
    with db_fault("ledger_posting", DEADLOCK, times=2):
        first_run = orders_settle_due(now=later)
    second_run = orders_settle_due(now=later)
    third_run = orders_settle_due(now=later)

    assert (first_run, second_run, third_run) == (2, 1, 0)
    for order in orders:
        assert JournalEntry.objects.filter(key=f"settle:{order.pk}").count() == 1
        assert Order.objects.get(pk=order.pk).settled_at is not None
    assert balance("customer_funds") == 0


def test_a_refund_whose_booking_is_aborted_is_booked_once_by_the_retry(
    customer, operator, make_address, sku
):
    order = _completed(customer, make_address, sku)

    with db_fault("ledger_posting", SERIALIZATION_FAILURE, times=1):
        response = operator.api.post(f"/admin/orders/{order.pk}/refunds", {"reason": "破损"})
    assert response.status_code == 201, response.content
    refund = Refund.objects.get(pk=response.json()["id"])
    refund.refresh_from_db()
    # The gateway paid; the booking after it was aborted: the refund waits for its retry.
    assert refund.status == "processing"
    assert SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).count() == 1

    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 1

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).count() == 1
    assert JournalEntry.objects.filter(refund_id=refund.pk, kind="refund").count() == 1
    assert balance("gateway:sandbox") == 0
