"""GMV = visitors × conversion × AOV × (1 + repeat), and which factor moved it.

* visitors: people who came (viewed, carted, placed or paid);
* conversion: buyers / visitors;
* AOV (客单价, per order): GMV / paid orders;
* repeat: paid orders / buyers − 1 (orders beyond each buyer's first).

The four multiply back to GMV exactly (up to float rounding). The change between two
periods is split among the factors by their Shapley values: each factor's average
effect over every order in which the factors can be switched from the old value to the
new; the four contributions add up to the change exactly, and a zero (no visitors in
one period) is handled without a logarithm.
"""

from __future__ import annotations

from itertools import permutations
from math import factorial, prod

FACTORS = ("visitors", "conversion", "aov", "repeat")


def factors_of(*, visitors: int, buyers: int, paid_orders: int, gmv: int) -> dict[str, float]:
    return {
        "visitors": float(visitors),
        "conversion": buyers / visitors if visitors else 0.0,
        "aov": gmv / paid_orders if paid_orders else 0.0,
        "repeat": paid_orders / buyers - 1 if buyers else 0.0,
    }


def gmv_of(factors: dict[str, float]) -> float:
    return prod([factors["visitors"], factors["conversion"], factors["aov"], 1 + factors["repeat"]])


def contributions(old: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """How much of ``gmv_of(new) - gmv_of(old)`` each factor accounts for (in fen)."""
    total = dict.fromkeys(FACTORS, 0.0)
    for order in permutations(FACTORS):
        current = dict(old)
        for name in order:
            before = gmv_of(current)
            current[name] = new[name]
            total[name] += gmv_of(current) - before
    n = factorial(len(FACTORS))
    return {name: value / n for name, value in total.items()}


def driver(parts: dict[str, float]) -> str:
    """The factor that moved GMV most (``""`` when nothing moved)."""
    name = max(FACTORS, key=lambda f: abs(parts[f]))
    return name if abs(parts[name]) >= 0.5 else ""
