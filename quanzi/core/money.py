"""Money helpers: amounts are integer fen, rates integer basis points."""

from __future__ import annotations

from collections.abc import Sequence

BP = 10_000  # basis points in one whole


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up exactly.

    Each part is the floor of its exact share; the fen left over go to the parts with
    the largest remainders (ties to the earlier part). Works for negative totals too.
    """
    if not weights:
        if total:
            raise ValueError("cannot split a non-zero amount over no parts")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        weights = [1] * len(weights)
        weight_sum = len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    left = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * part for part in floors]


def apply_bp(amount: int, rate_bp: int) -> int:
    """``amount × rate`` rounded down to whole fen (rates in basis points)."""
    return amount * rate_bp // BP


def yuan(amount: int) -> str:
    """Format fen as yuan for people: 1990 → '19.90'."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100}.{amount % 100:02d}"
