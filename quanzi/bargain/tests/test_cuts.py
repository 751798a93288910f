"""The cut algorithm's promises, over many random campaigns (pure functions, no DB)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quanzi.bargain.cuts import BP, cut_amount, cuts_replay, helpers_target_draw


@st.composite
def bargains(draw):
    helpers_min = draw(st.integers(min_value=1, max_value=30))
    helpers_max = draw(st.integers(min_value=helpers_min, max_value=40))
    floor = draw(st.integers(min_value=0, max_value=100_000))
    start = floor + draw(st.integers(min_value=helpers_max, max_value=500_000))
    seed = draw(st.integers(min_value=0, max_value=2**63 - 1))
    helpers = helpers_target_draw(seed=seed, helpers_min=helpers_min, helpers_max=helpers_max)
    boosts = draw(
        st.lists(st.sampled_from([BP, 15_000, 20_000, 50_000]), min_size=helpers, max_size=helpers)
    )
    return seed, start, floor, helpers_min, helpers_max, helpers, boosts


@settings(max_examples=300, deadline=None)
@given(bargains())
def test_cuts_add_up_to_start_minus_floor_and_each_is_at_least_one_fen(case):
    seed, start, floor, helpers_min, helpers_max, helpers, boosts = case
    cuts = cuts_replay(
        seed=seed, start_price=start, floor_price=floor, helpers=helpers, boosts=boosts
    )
    assert helpers_min <= helpers <= helpers_max
    assert len(cuts) == helpers
    assert sum(cuts) == start - floor  # the last helper lands exactly on the floor
    assert all(cut >= 1 for cut in cuts)


@settings(max_examples=200, deadline=None)
@given(bargains())
def test_cuts_replay_identically_from_the_seed(case):
    seed, start, floor, _, _, helpers, boosts = case
    first = cuts_replay(
        seed=seed, start_price=start, floor_price=floor, helpers=helpers, boosts=boosts
    )
    again = cuts_replay(
        seed=seed, start_price=start, floor_price=floor, helpers=helpers, boosts=boosts
    )
    assert first == again
    # Cut k depends on (seed, k, remaining, helpers_left) only: recompute one alone.
    remaining = start - floor
    for k, cut in enumerate(first, start=1):
        alone = cut_amount(
            seed=seed,
            k=k,
            remaining=remaining,
            helpers_left=helpers - k + 1,
            boost_bp=boosts[k - 1],
        )
        assert alone == cut
        remaining -= cut


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**63 - 1),
    remaining=st.integers(min_value=40, max_value=1_000_000),
    helpers_left=st.integers(min_value=2, max_value=40),
)
def test_an_unboosted_cut_stays_in_the_band_around_the_average(seed, remaining, helpers_left):
    average = remaining // helpers_left
    cut = cut_amount(seed=seed, k=1, remaining=remaining, helpers_left=helpers_left)
    ceiling = remaining - (helpers_left - 1)
    low, high = max(1, average - average // 2), average + average // 2
    assert min(low, ceiling) <= cut <= min(high, ceiling)


def test_different_seeds_give_different_histories():
    histories = {
        tuple(cuts_replay(seed=seed, start_price=10_000, floor_price=0, helpers=5))
        for seed in range(50)
    }
    assert len(histories) > 40


def test_helper_count_covers_the_whole_range():
    drawn = {helpers_target_draw(seed=s, helpers_min=3, helpers_max=6) for s in range(200)}
    assert drawn == {3, 4, 5, 6}


def test_a_new_users_cut_is_bigger_but_leaves_a_fen_for_everyone_after():
    plain = cut_amount(seed=7, k=1, remaining=1_000, helpers_left=10)
    boosted = cut_amount(seed=7, k=1, remaining=1_000, helpers_left=10, boost_bp=20_000)
    assert boosted == 2 * plain
    huge = cut_amount(seed=7, k=1, remaining=1_000, helpers_left=2, boost_bp=100_000)
    assert huge == 1_000 - 1
