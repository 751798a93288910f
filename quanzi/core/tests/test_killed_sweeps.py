"""A worker killed in the middle of a sweep: what committed before the kill stays, what was
in flight rolls back, and running the sweep again finishes the work exactly once.

The kill is ``WorkerKilled`` (a ``BaseException``, as a dying process's interruption: no
``except Exception`` in the sweep swallows it) raised between two of the sweep's steps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.core.jobs import discover, run_sweep
from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import order_confirm_receipt, order_ship
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import SandboxRecord
from quanzi.simulation.faults import KILL_POINTS, WorkerKilled, killed


def _run(name: str) -> int:
    return run_sweep(discover()[name])


def _run_killed(name: str, *, at_call: int, when: str = "before") -> None:
    with killed(KILL_POINTS[name], at_call=at_call, when=when), pytest.raises(WorkerKilled):
        _run(name)


@pytest.fixture
def travel(monkeypatch):
    """Move ``timezone.now`` forward (the sweeps read the time from it)."""
    real = timezone.now

    def go(**delta):
        moment = real() + timedelta(**delta)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return go


def test_payment_timeouts_killed_after_the_first_order_cancel_the_rest_on_rerun(
    customer, sku, buy, travel
):
    orders = [buy(customer, sku, qty=2, pay=False) for _ in range(3)]
    sku.refresh_from_db()
    assert sku.stock == 94
    travel(hours=1)

    _run_killed("orders.expire_unpaid", at_call=2)

    assert [Order.objects.get(pk=o["id"]).status for o in orders] == [
        "cancelled",
        "pending_payment",
        "pending_payment",
    ]
    sku.refresh_from_db()
    assert sku.stock == 96  # the first order's units are back, the others' still held

    assert _run("orders.expire_unpaid") == 2
    assert _run("orders.expire_unpaid") == 0
    assert {Order.objects.get(pk=o["id"]).status for o in orders} == {"cancelled"}
    sku.refresh_from_db()
    assert sku.stock == 100  # every unit back once


def _completed(customer, sku, buy) -> Order:
    order = Order.objects.get(pk=buy(customer, sku)["id"])
    order_ship(order_id=order.pk, carrier="顺丰", tracking_no="SF1")
    order_confirm_receipt(order_id=order.pk, user=customer)
    return order


def test_a_settlement_killed_inside_its_chunk_settles_everything_once_on_rerun(
    customer, sku, buy, travel
):
    orders = [_completed(customer, sku, buy) for _ in range(3)]
    travel(days=8)

    _run_killed("orders.settle_due", at_call=1, when="after")  # booked, then died: rolled back

    assert not JournalEntry.objects.filter(kind="settlement").exists()
    assert not Order.objects.filter(settled_at__isnull=False).exists()

    assert _run("orders.settle_due") == 3
    assert _run("orders.settle_due") == 0
    for order in orders:
        assert JournalEntry.objects.filter(key=f"settle:{order.pk}").count() == 1
    assert balance("customer_funds") == 0


def test_a_group_expiry_killed_between_two_members_refunds_the_rest_once_on_rerun(
    make_user, make_address, make_product, travel
):
    from quanzi.groupbuy.models import Group
    from quanzi.groupbuy.services import campaign_create, group_join, group_open
    from quanzi.payments.services import payment_create, sandbox_complete

    sku = make_product(price=3000, supply_price=1000, stock=20).skus.get()
    campaign = campaign_create(
        title="3人团",
        skus=[{"sku_id": sku.pk, "group_price": 2500}],
        group_size=3,
        group_ttl_seconds=3600,
        per_user_limit=5,
        stock=10,
    )

    def paid(order, user):
        payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
        sandbox_complete(payment_id=payment.pk, user=user)

    leader, friend = make_user(), make_user()
    opened = group_open(
        user=leader,
        campaign_id=campaign.pk,
        sku_id=sku.pk,
        qty=1,
        address_id=make_address(leader).pk,
    )
    paid(opened, leader)
    group = Group.objects.get(members__order=opened)
    joined = group_join(
        user=friend, group_id=group.pk, sku_id=sku.pk, qty=1, address_id=make_address(friend).pk
    )
    paid(joined, friend)
    travel(hours=2)

    _run_killed("groupbuy.expire_groups", at_call=2)  # the leader refunded, then killed

    group.refresh_from_db()
    assert group.status == "failed"
    refunded = Refund.objects.filter(order__in=[opened, joined]).values_list("order_id", flat=True)
    assert list(refunded) == [opened.pk]

    assert _run("groupbuy.expire_groups") == 0  # the group is closed already
    assert _run("groupbuy.refund_stragglers") == 1
    assert _run("groupbuy.refund_stragglers") == 0
    for order in (opened, joined):
        assert Refund.objects.filter(order=order).count() == 1
        assert Order.objects.get(pk=order.pk).status == "refunded"
    assert balance("gateway:sandbox") == 0
    sku.refresh_from_db()
    assert sku.stock == 20


def test_a_refund_retry_killed_after_the_gateway_paid_books_it_once_on_rerun(
    monkeypatch, customer, operator, sku, buy, travel
):
    order = buy(customer, sku, qty=2)
    monkeypatch.setattr(SandboxGateway, "fail_refunds", True)
    response = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "缺货"})
    refund = Refund.objects.get(pk=response.json()["id"])
    monkeypatch.setattr(SandboxGateway, "fail_refunds", False)
    travel(hours=1)

    _run_killed("payments.retry_refunds", at_call=1)  # the gateway paid; booking never ran

    refund.refresh_from_db()
    assert refund.status == "processing"
    assert SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).count() == 1
    assert not JournalEntry.objects.filter(refund_id=refund.pk).exists()

    travel(hours=5)
    assert _run("payments.retry_refunds") == 1
    assert _run("payments.retry_refunds") == 0
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).count() == 1
    assert JournalEntry.objects.filter(refund_id=refund.pk, kind="refund").count() == 1
    assert balance("gateway:sandbox") == 0


def test_a_payout_retry_killed_after_the_gateway_paid_books_it_once_on_rerun(
    monkeypatch, make_user, make_address, make_product, travel
):
    from django.db import transaction

    from quanzi.accounts.services import referrer_bind
    from quanzi.distribution.models import Withdrawal
    from quanzi.distribution.selectors import earnings_of
    from quanzi.distribution.withdrawals import withdrawal_request
    from quanzi.orders.services import order_place, order_settle
    from quanzi.payments.services import payment_create, sandbox_complete

    upline, buyer = make_user(), make_user()
    with transaction.atomic():
        referrer_bind(user=buyer, referrer=upline, source="test")
    sku = make_product(price=30_000, supply_price=10_000).skus.get()
    order = order_place(
        user=buyer, items=[{"sku_id": sku.pk, "qty": 1}], address_id=make_address(buyer).pk
    )
    sandbox_complete(
        payment_id=payment_create(order_id=order.pk, user=buyer, gateway="sandbox").pk, user=buyer
    )
    order_ship(order_id=order.pk, carrier="顺丰", tracking_no="SF1")
    order_confirm_receipt(order_id=order.pk, user=buyer)
    order.refresh_from_db()
    order_settle(order_id=order.pk, now=order.after_sales_ends_at + timedelta(seconds=1))
    assert earnings_of(user=upline)["available"] == 3000
    monkeypatch.setattr(SandboxGateway, "fail_payouts", True)
    withdrawal = withdrawal_request(user=upline, amount=1000)
    monkeypatch.setattr(SandboxGateway, "fail_payouts", False)
    travel(hours=1)

    _run_killed("distribution.retry_payouts", at_call=1)  # paid at the gateway, not booked

    withdrawal = Withdrawal.objects.get(pk=withdrawal.pk)
    assert withdrawal.status == "processing"
    assert SandboxRecord.objects.filter(kind="payout").count() == 1

    travel(hours=6)
    assert _run("distribution.retry_payouts") == 1
    assert _run("distribution.retry_payouts") == 0
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert SandboxRecord.objects.filter(kind="payout").count() == 1
    assert JournalEntry.objects.filter(key=f"withdrawal:{withdrawal.pk}:paid").count() == 1
    assert earnings_of(user=upline)["withdrawn"] == 1000
