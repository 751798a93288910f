"""Withdrawals: minimum, fee, daily limit, audit, approve / reject / paid, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import settle
from quanzi.distribution.withdrawals import withdrawals_retry
from quanzi.ledger.services import balance
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import Payout, SandboxRecord


@pytest.fixture
def earner(people, pay, make_product, dist_settings):
    """A distributor with 3000 fen available (10 % of a 30000 sale)."""
    dist_settings(
        withdraw_min=500,
        withdraw_fee_bp=100,
        withdraw_audit_above=2000,
        withdraw_daily_limit=2500,
    )
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=30_000, supply_price=10_000).skus.get()
    settle(pay(buyer, [(sku, 1)]))
    assert earnings_of(user=mid)["available"] == 3000
    return mid


def test_small_withdrawal_is_paid_at_once_minus_its_fee(earner):
    gateway_before = balance("gateway:sandbox")
    response = earner.api.post("/me/withdrawals", {"amount": 1000})

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == 1000 and body["fee"] == 10 and body["status"] in ("approved", "paid")
    withdrawal = Withdrawal.objects.get(pk=body["id"])
    assert withdrawal.status == "paid" and withdrawal.auto_approved
    assert SandboxRecord.objects.get(kind="payout").amount == 990
    assert Payout.objects.get(payout_no=withdrawal.payout_no).status == "succeeded"
    assert earnings_of(user=earner) == {
        "frozen": 0,
        "available": 2000,
        "withdrawn": 1000,
        "pending_withdrawal": 0,
    }
    assert balance("gateway:sandbox") == gateway_before  # payouts leave takings alone
    assert balance("payout_funding:sandbox") == 0 and balance("payout_deposits") == -990


def test_minimum_and_balance_are_enforced(earner):
    low = earner.api.post("/me/withdrawals", {"amount": 499})
    assert low.status_code == 422 and low.json()["code"] == "below_minimum"
    too_much = earner.api.post("/me/withdrawals", {"amount": 3001})
    assert too_much.status_code == 409 and too_much.json()["code"] == "insufficient_balance"
    bad = earner.api.post("/me/withdrawals", {"amount": -5})
    assert bad.status_code == 422
    assert not Withdrawal.objects.exists()


def test_daily_limit_counts_todays_requests_but_not_rejected_ones(earner, operator):
    audited = earner.api.post("/me/withdrawals", {"amount": 2100}).json()
    assert audited["status"] == "requested"
    over = earner.api.post("/me/withdrawals", {"amount": 500})
    assert over.status_code == 422 and over.json()["code"] == "daily_limit_exceeded"

    operator.api.post(f"/admin/withdrawals/{audited['id']}/reject", {})

    assert earner.api.post("/me/withdrawals", {"amount": 500}).status_code == 201
    assert earner.api.post("/me/withdrawals", {"amount": 2000}).status_code == 201
    assert earner.api.post("/me/withdrawals", {"amount": 500}).status_code == 422
    assert earnings_of(user=earner)["withdrawn"] == 2500


def test_large_withdrawal_waits_for_audit_then_approval_pays(earner, operator):
    response = earner.api.post("/me/withdrawals", {"amount": 2500})
    assert response.status_code == 201 and response.json()["status"] == "requested"
    assert earnings_of(user=earner)["pending_withdrawal"] == 2500
    assert earnings_of(user=earner)["available"] == 500
    assert not Payout.objects.exists()

    listed = operator.api.get("/admin/withdrawals?status=requested").json()["items"]
    assert [w["id"] for w in listed] == [response.json()["id"]]
    assert earner.api.post(f"/admin/withdrawals/{listed[0]['id']}/approve").status_code == 403

    approved = operator.api.post(f"/admin/withdrawals/{listed[0]['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "paid"
    again = operator.api.post(f"/admin/withdrawals/{listed[0]['id']}/approve")
    assert again.status_code == 200
    assert SandboxRecord.objects.filter(kind="payout").count() == 1
    assert earnings_of(user=earner)["withdrawn"] == 2500


def test_rejected_withdrawal_returns_the_money(earner, operator):
    created = earner.api.post("/me/withdrawals", {"amount": 2500}).json()

    rejected = operator.api.post(
        f"/admin/withdrawals/{created['id']}/reject", {"reason": "资料不全"}
    )

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert earnings_of(user=earner) == {
        "frozen": 0,
        "available": 3000,
        "withdrawn": 0,
        "pending_withdrawal": 0,
    }
    assert operator.api.post(f"/admin/withdrawals/{created['id']}/approve").status_code == 409
    assert not Payout.objects.exists()


def test_a_paid_withdrawal_cannot_be_rejected(earner, operator):
    created = earner.api.post("/me/withdrawals", {"amount": 1000}).json()
    response = operator.api.post(f"/admin/withdrawals/{created['id']}/reject", {})
    assert response.status_code == 409
    assert earnings_of(user=earner)["withdrawn"] == 1000


def test_failed_payout_is_retried_with_the_same_number(earner, monkeypatch):
    monkeypatch.setattr(SandboxGateway, "fail_payouts", True)
    created = earner.api.post("/me/withdrawals", {"amount": 1000}).json()
    withdrawal = Withdrawal.objects.get(pk=created["id"])
    assert withdrawal.status == "approved" and withdrawal.attempts == 1
    assert "simulated" in withdrawal.last_error
    assert earnings_of(user=earner)["pending_withdrawal"] == 1000

    monkeypatch.setattr(SandboxGateway, "fail_payouts", False)
    assert withdrawals_retry(now=timezone.now() + timedelta(hours=1)) == 1
    assert withdrawals_retry(now=timezone.now() + timedelta(hours=2)) == 0

    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid" and withdrawal.attempts == 2
    assert SandboxRecord.objects.get(kind="payout").number == withdrawal.payout_no
    assert earnings_of(user=earner)["withdrawn"] == 1000


def test_operator_may_reject_a_payout_that_keeps_failing(earner, operator, monkeypatch):
    monkeypatch.setattr(SandboxGateway, "fail_payouts", True)
    created = earner.api.post("/me/withdrawals", {"amount": 1000}).json()

    rejected = operator.api.post(f"/admin/withdrawals/{created['id']}/reject", {})

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    monkeypatch.setattr(SandboxGateway, "fail_payouts", False)
    assert withdrawals_retry(now=timezone.now() + timedelta(hours=1)) == 0
    assert not SandboxRecord.objects.filter(kind="payout").exists()
    assert earnings_of(user=earner)["available"] == 3000


def test_idempotency_key_withdraws_once(earner):
    headers = {"Idempotency-Key": "wd-1"}
    first = earner.api.post("/me/withdrawals", {"amount": 1000}, headers=headers)
    second = earner.api.post("/me/withdrawals", {"amount": 1000}, headers=headers)
    other = earner.api.post("/me/withdrawals", {"amount": 600}, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert other.status_code == 409
    assert Withdrawal.objects.count() == 1
    assert earnings_of(user=earner)["available"] == 2000


def test_withdrawals_are_private(earner, make_user, operator):
    earner.api.post("/me/withdrawals", {"amount": 1000})
    stranger = make_user()
    assert stranger.api.get("/me/withdrawals").json()["items"] == []
    assert stranger.api.get("/admin/withdrawals").status_code == 403
    assert len(earner.api.get("/me/withdrawals").json()["items"]) == 1
    assert len(operator.api.get("/admin/withdrawals").json()["items"]) == 1
