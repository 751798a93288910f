"""Withdrawals arriving at the same moment, on PostgreSQL with real threads: the same
money is never withdrawn twice."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test import Client

from quanzi.core.testing import race
from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import settle
from quanzi.distribution.withdrawals import withdrawal_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


@pytest.fixture
def earner(people, pay, make_product, dist_settings):
    dist_settings(withdraw_min=100, withdraw_audit_above=10_000_000, withdraw_fee_bp=100)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=10_000, supply_price=4_000).skus.get()
    settle(pay(buyer, [(sku, 1)]))
    assert earnings_of(user=mid)["available"] == 1_000
    return mid


def test_parallel_withdrawals_never_overdraw(earner):
    results = race([lambda: withdrawal_request(user=earner, amount=300) for _ in range(8)])

    granted = [r for r in results if isinstance(r, Withdrawal)]
    refused = [r for r in results if r == "insufficient_balance"]
    assert len(granted) == 3 and len(refused) == 5, results
    earnings = earnings_of(user=earner)
    assert earnings["available"] == 100
    assert earnings["withdrawn"] + earnings["pending_withdrawal"] == 900
    assert Withdrawal.objects.count() == 3


def test_parallel_requests_with_one_idempotency_key_withdraw_once(earner):
    def tap():
        return Client().post(
            "/api/v1/me/withdrawals",
            data=json.dumps({"amount": 600}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {earner.api.token}", "Idempotency-Key": "tap"},
        )

    results = race([tap] * 4)

    assert all(r.status_code in (201, 409) for r in results), results
    assert {r.json()["id"] for r in results if r.status_code == 201} == {
        Withdrawal.objects.get().pk
    }
    assert earnings_of(user=earner)["available"] == 400


def test_settlement_sweeps_withdrawals_and_refunds_at_once(
    people, pay, make_product, dist_settings, operator
):
    """Two settlement sweeps, the earner's withdrawals and a refund, all at the same
    moment: every order is settled once or refunded, no withdrawal takes money not yet
    available, nobody deadlocks, and the books balance."""
    from datetime import timedelta

    from quanzi.accounts.services import referrer_bind
    from quanzi.distribution.tests.conftest import complete
    from quanzi.ledger.checks import run_checks
    from quanzi.ledger.models import JournalEntry
    from quanzi.orders import refunds
    from quanzi.orders.models import Order
    from quanzi.orders.services import orders_settle_due

    dist_settings(withdraw_min=100, withdraw_audit_above=10_000_000, withdraw_fee_bp=0)
    top, mid, *buyers = people(8)
    with transaction.atomic():  # binding locks the users' rows
        referrer_bind(user=mid, referrer=top, source="test")
        for buyer in buyers:
            referrer_bind(user=buyer, referrer=mid, source="test")
    sku = make_product(price=10_000, supply_price=4_000).skus.get()
    settle(pay(buyers[0], [(sku, 1)]))  # mid has 1,000 available before the race
    orders = [complete(pay(buyer, [(sku, 1)])) for buyer in buyers for _ in range(2)]
    now = max(order.after_sales_ends_at for order in orders) + timedelta(seconds=1)
    refunded = orders[5]

    def refund():
        return refunds.refund_operator_create(
            order_id=refunded.pk, lines=None, reason="race", operator=operator
        ).status

    results = race(
        [
            lambda: orders_settle_due(now=now),
            lambda: orders_settle_due(now=now),
            *[lambda: withdrawal_request(user=mid, amount=600) for _ in range(3)],
            refund,
        ]
    )
    crashed = [r for r in results if isinstance(r, str) and "(" in r]  # reprs, not codes
    assert crashed == [], results
    settled_now = results[0] + results[1]
    assert settled_now in (len(orders), len(orders) - 1), results  # the refund may come first
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        entries = JournalEntry.objects.filter(kind="settlement", order_id=order.pk).count()
        assert entries == (1 if order.settled_at else 0)
    granted = [r for r in results[2:5] if isinstance(r, Withdrawal)]
    assert 1 <= len(granted) <= 3  # at least the 1,000 there before the race covers one
    assert earnings_of(user=mid)["available"] >= 0
    assert run_checks()[0] == []


def test_parallel_payouts_through_one_gateway_fund_each_payout_once(
    people, pay, make_product, dist_settings, operator
):
    from quanzi.distribution.payout_funding import payout_deposit
    from quanzi.ledger.checks import run_checks
    from quanzi.ledger.services import balance

    dist_settings(withdraw_min=100, withdraw_audit_above=10_000_000, withdraw_fee_bp=100)
    sku = make_product(price=10_000, supply_price=4_000, stock=20).skus.get()
    earners = []
    for _ in range(6):
        _, mid, buyer = people(3, chain=True)
        settle(pay(buyer, [(sku, 1)]))
        earners.append(mid)
    payout_deposit(gateway="sandbox", amount=1_000, reference="BK-RACE", operator=operator)

    results = race(
        [lambda user=user: withdrawal_request(user=user, amount=500) for user in earners]
    )

    assert all(isinstance(r, Withdrawal) for r in results), results
    assert Withdrawal.objects.filter(status="paid").count() == 6
    # 6 × 495 went out: the 1000 recorded plus 1970 booked as put in when short, no more.
    assert balance("payout_funding:sandbox") == 0
    assert balance("payout_deposits") == -2_970
    assert run_checks()[0] == []
