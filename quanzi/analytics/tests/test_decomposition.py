from __future__ import annotations

import pytest

from quanzi.analytics.decomposition import contributions, driver, factors_of, gmv_of


@pytest.mark.parametrize(
    "visitors,buyers,paid,gmv",
    [(100, 10, 13, 45_670), (1, 1, 1, 1), (3000, 250, 260, 9_999_999), (5, 0, 0, 0)],
)
def test_the_factors_multiply_back_to_gmv(visitors, buyers, paid, gmv):
    factors = factors_of(visitors=visitors, buyers=buyers, paid_orders=paid, gmv=gmv)
    assert gmv_of(factors) == pytest.approx(gmv, abs=1e-6)


def test_the_contributions_add_up_to_the_change_and_name_the_driver():
    old = factors_of(visitors=1000, buyers=50, paid_orders=60, gmv=300_000)
    # Twice the visitors, the same conversion, a slightly lower basket.
    new = factors_of(visitors=2000, buyers=100, paid_orders=120, gmv=570_000)
    parts = contributions(old, new)
    assert sum(parts.values()) == pytest.approx(570_000 - 300_000)
    assert driver(parts) == "visitors"
    assert parts["conversion"] == pytest.approx(0) and parts["repeat"] == pytest.approx(0)
    assert parts["aov"] < 0


def test_a_period_with_nothing_still_decomposes():
    old = factors_of(visitors=0, buyers=0, paid_orders=0, gmv=0)
    new = factors_of(visitors=10, buyers=2, paid_orders=3, gmv=9000)
    parts = contributions(old, new)
    assert sum(parts.values()) == pytest.approx(9000)
    assert driver(contributions(old, old)) == ""
