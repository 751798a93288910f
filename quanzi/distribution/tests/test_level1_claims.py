"""The level-1 claim hook: a registered claim takes level 1 in place of the buyer's
referrer; level 2 is the claimant's referrer; never a third level; no claim, no change."""

from __future__ import annotations

import pytest

from quanzi.distribution import commission
from quanzi.distribution.models import Commission


@pytest.fixture
def claim_for(monkeypatch):
    claims: dict[int, int] = {}

    def claim(order):
        uid = claims.get(order.user_id)
        return None if uid is None else (uid, "test")

    monkeypatch.setattr(commission, "_level1_claims", [claim])
    return claims


def test_a_claim_takes_level_one_and_keeps_two_levels(people, pay, make_product, claim_for):
    top, claimant, referrer, buyer = people(4)
    from django.db import transaction

    from quanzi.accounts.services import referrer_bind

    with transaction.atomic():
        referrer_bind(user=claimant, referrer=top, source="test")
        referrer_bind(user=buyer, referrer=referrer, source="test")
    sku = make_product(price=10000, supply_price=5000).skus.get()
    plain = pay(buyer, [(sku, 1)])
    assert {(c.level, c.beneficiary_id) for c in Commission.objects.filter(order=plain)} == {
        (1, referrer.pk)
    }
    claim_for[buyer.pk] = claimant.pk
    claimed = pay(buyer, [(sku, 1)])
    got = {(c.level, c.beneficiary_id, c.source) for c in Commission.objects.filter(order=claimed)}
    assert got == {(1, claimant.pk, "test"), (2, top.pk, "referrer")}


def test_a_buyer_claiming_its_own_order_earns_nothing(people, pay, make_product, claim_for):
    (buyer,) = people(1)
    claim_for[buyer.pk] = buyer.pk
    order = pay(buyer, [(make_product().skus.get(), 1)])
    assert not Commission.objects.filter(order=order).exists()
