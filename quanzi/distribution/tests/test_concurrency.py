"""Withdrawals arriving at the same moment, on PostgreSQL with real threads: the same
money is never withdrawn twice."""

from __future__ import annotations

import json

import pytest
from django.db import connection
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
