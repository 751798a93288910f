"""The pure pick: exact range over in-stock weights, and a seeded run matching weights."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quanzi.rewards.lottery import draw_replay, draw_roll, prize_pick


def test_every_roll_in_range_matches_exactly_one_prize_by_its_weight():
    pool = [[11, 3], [12, 5], [13, 2]]
    hits = Counter(prize_pick(pool, roll) for roll in range(10))
    assert hits == {11: 3, 12: 5, 13: 2}
    with pytest.raises(ValueError):
        prize_pick(pool, 10)  # no roll beyond the total exists to match nothing


@given(
    weights=st.lists(st.integers(min_value=1, max_value=1_000), min_size=1, max_size=20),
    seed=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_a_roll_is_always_inside_the_total_and_picks_a_prize(weights, seed):
    pool = [[i + 1, w] for i, w in enumerate(weights)]
    total = sum(weights)
    roll = draw_roll(seed, total)
    assert 0 <= roll < total
    assert prize_pick(pool, roll) in {p for p, _ in pool}
    assert draw_replay(seed=seed, pool=pool) == prize_pick(pool, roll)


def test_a_seeded_run_of_many_draws_matches_the_weights():
    pool = [[1, 50], [2, 30], [3, 15], [4, 5]]
    runs = 40_000
    hits = Counter(draw_replay(seed=seed, pool=pool) for seed in range(runs))
    for prize_id, weight in pool:
        share = hits[prize_id] / runs
        assert abs(share - weight / 100) < 0.01, (prize_id, share)
