"""The marketing invariants of ``quanzi ledger check`` catch books that disagree."""

import pytest
from django.db.models import F

from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import Posting
from quanzi.marketing.models import PointsLot
from quanzi.marketing.observer import COUPON_SUBSIDY


@pytest.mark.ledger_dirty
def test_a_missing_coupon_subsidy_is_reported(
    customer, make_product, coupon_for, place, pay, deliver, settle
):
    sku = make_product(price=3000).skus.get()
    order = place(customer, [(sku, 1)], coupon_id=coupon_for(customer).pk).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    settle()
    assert run_checks()[0] == []
    # Move one fen of the subsidy to revenue: the entry still balances, the subsidy is short.
    Posting.objects.filter(account__code=COUPON_SUBSIDY).update(amount=F("amount") - 1)
    Posting.objects.filter(entry__kind="settlement", account__code="platform_revenue").update(
        amount=F("amount") + 1
    )
    problems = run_checks()[0]
    assert any("coupon subsidy of 1000 not booked" in p for p in problems), problems


@pytest.mark.ledger_dirty
def test_points_lots_that_disagree_with_the_ledger_are_reported(customer, give_points):
    give_points(customer, 100)
    assert run_checks()[0] == []
    PointsLot.objects.update(remaining=90)
    problems = run_checks()[0]
    assert any("ledger holds 100 points, movements sum to 100, lots to 90" in p for p in problems)
