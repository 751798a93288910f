from hypothesis import given
from hypothesis import strategies as st

from quanzi.core.money import apply_bp, split_largest_remainder, yuan


@given(st.integers(-(10**12), 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
def test_split_parts_always_add_up_exactly(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    if sum(weights) and total >= 0:
        for part, weight in zip(parts, weights, strict=True):
            exact = total * weight / sum(weights)
            assert abs(part - exact) < 1


def test_split_examples():
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]
    assert split_largest_remainder(5, [0, 0]) == [3, 2]
    assert apply_bp(1999, 1000) == 199
    assert yuan(1990) == "19.90" and yuan(-5) == "-0.05"
