"""The gateway misbehaving on a withdrawal's payout: it times out (before or after paying),
refuses, or answers twice. The distributor is paid once, the books say so once, and money
the gateway may have paid can never also go back to the available balance."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import settle
from quanzi.distribution.withdrawals import withdrawal_reject, withdrawals_retry
from quanzi.ledger.models import JournalEntry
from quanzi.payments.models import SandboxRecord
from quanzi.simulation.faults import GatewayFaults


@pytest.fixture
def faults(db):
    injector = GatewayFaults(random.Random(0))
    injector.enabled = False
    with injector.installed():
        yield injector


@pytest.fixture
def earner(people, pay, make_product):
    """A distributor with 3000 fen available (10 % of a 30000 sale)."""
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=30_000, supply_price=10_000).skus.get()
    settle(pay(buyer, [(sku, 1)]))
    assert earnings_of(user=mid)["available"] == 3000
    return mid


def _withdraw(earner, amount: int = 1000) -> Withdrawal:
    response = earner.api.post("/me/withdrawals", {"amount": amount})
    assert response.status_code == 201, response.content
    return Withdrawal.objects.get(pk=response.json()["id"])


def _paid_out(withdrawal: Withdrawal) -> int:
    return SandboxRecord.objects.filter(kind="payout", number=withdrawal.payout_no).count()


def _booked(withdrawal: Withdrawal) -> int:
    return JournalEntry.objects.filter(key__startswith=f"withdrawal:{withdrawal.pk}:paid").count()


def _later(hours: int = 2):
    return timezone.now() + timedelta(hours=hours)


@pytest.mark.parametrize("fate", ["timeout_before", "timeout_after"])
def test_a_payout_that_times_out_is_paid_once_by_the_retry(fate, faults, earner):
    faults.forced = [fate]

    withdrawal = _withdraw(earner)

    withdrawal.refresh_from_db()
    assert withdrawal.status == "processing"
    assert _paid_out(withdrawal) == (1 if fate == "timeout_after" else 0)
    assert _booked(withdrawal) == 0
    assert earnings_of(user=earner)["pending_withdrawal"] == 1000

    assert withdrawals_retry(now=_later()) == 1

    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert _paid_out(withdrawal) == 1 and _booked(withdrawal) == 1
    assert earnings_of(user=earner) == {
        "frozen": 0,
        "available": 2000,
        "withdrawn": 1000,
        "pending_withdrawal": 0,
    }
    assert withdrawals_retry(now=_later(48)) == 0


def test_a_payout_whose_answer_was_lost_cannot_be_rejected_back_to_the_balance(
    faults, earner, operator
):
    """The gateway may have paid: giving the money back too would pay it twice."""
    faults.forced = ["timeout_after"]
    withdrawal = _withdraw(earner)

    response = operator.api.post(f"/admin/withdrawals/{withdrawal.pk}/reject", {"reason": "?"})

    assert response.status_code == 409, response.content
    withdrawal.refresh_from_db()
    assert withdrawal.status == "processing"
    assert earnings_of(user=earner)["available"] == 2000
    withdrawals_retry(now=_later())
    assert earnings_of(user=earner)["withdrawn"] == 1000


def test_a_refused_payout_may_be_rejected_and_the_money_returns_once(faults, earner, operator):
    faults.forced = ["error"]
    withdrawal = _withdraw(earner)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved" and withdrawal.attempts == 1
    assert _paid_out(withdrawal) == 0

    withdrawal_reject(withdrawal_id=withdrawal.pk, operator=operator, reason="账户异常")
    withdrawal_reject(withdrawal_id=withdrawal.pk, operator=operator, reason="再点一次")

    assert earnings_of(user=earner)["available"] == 3000
    assert earnings_of(user=earner)["pending_withdrawal"] == 0
    assert withdrawals_retry(now=_later(48)) == 0  # a rejected withdrawal is never paid
    assert _paid_out(withdrawal) == 0


def test_a_payout_the_gateway_answers_twice_is_paid_and_booked_once(faults, earner):
    faults.forced = ["twice"]

    withdrawal = _withdraw(earner)

    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert _paid_out(withdrawal) == 1 and _booked(withdrawal) == 1
    assert earnings_of(user=earner)["withdrawn"] == 1000
