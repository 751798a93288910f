"""The cut algorithm of friend bargaining, as pure functions (no database, no clock).

* At start a bargain draws how many helpers it needs, in ``[helpers_min, helpers_max]``.
* Cut number ``k`` is a random whole number of fen in a band of ±50 % around
  ``remaining ÷ helpers_left``, times the new-user bonus when the helper is brand new;
  it is at least 1 fen and leaves at least 1 fen for each helper still to come; the
  last helper takes exactly what remains, so the price lands on the floor.
* "Random" is a SHA-256 of the bargain's stored seed and the cut's inputs: cut ``k`` is
  a pure function of (seed, k, remaining, helpers_left, bonus), so anyone holding the
  seed can replay and audit a bargain (``cuts_replay``), on any machine, in any language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

BP = 10_000
CUT_BAND_BP = 5_000  # ±50 % around the average cut


def _draw(seed: int, *parts: object) -> int:
    """A uniform 64-bit number derived from the seed and ``parts`` (deterministic)."""
    message = ":".join(str(part) for part in (seed, *parts)).encode()
    return int.from_bytes(hashlib.sha256(message).digest()[:8], "big")


def helpers_target_draw(*, seed: int, helpers_min: int, helpers_max: int) -> int:
    if helpers_min < 1 or helpers_max < helpers_min:
        raise ValueError("need 1 <= helpers_min <= helpers_max")
    return helpers_min + _draw(seed, "helpers") % (helpers_max - helpers_min + 1)


def cut_amount(*, seed: int, k: int, remaining: int, helpers_left: int, boost_bp: int = BP) -> int:
    """The k-th cut (1-based) when ``remaining`` fen are left for ``helpers_left`` helpers."""
    if helpers_left < 1 or remaining < helpers_left:
        raise ValueError("every helper left must be able to cut at least 1 fen")
    if helpers_left == 1:
        return remaining
    average = remaining // helpers_left
    band = average * CUT_BAND_BP // BP
    low, high = max(1, average - band), average + band
    cut = low + _draw(seed, "cut", k, remaining, helpers_left) % (high - low + 1)
    cut = cut * max(boost_bp, BP) // BP
    ceiling = remaining - (helpers_left - 1)  # 1 fen at least for everyone after
    return max(1, min(cut, ceiling))


def cuts_replay(
    *, seed: int, start_price: int, floor_price: int, helpers: int, boosts: Sequence[int] = ()
) -> list[int]:
    """Every cut of a bargain that got all its ``helpers`` (``boosts[k-1]`` per cut)."""
    cuts, remaining = [], start_price - floor_price
    for k in range(1, helpers + 1):
        boost = boosts[k - 1] if k - 1 < len(boosts) else BP
        cut = cut_amount(
            seed=seed, k=k, remaining=remaining, helpers_left=helpers - k + 1, boost_bp=boost
        )
        cuts.append(cut)
        remaining -= cut
    return cuts
