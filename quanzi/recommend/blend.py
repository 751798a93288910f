"""The recommenders behind one interface, their blend, exclusions and boosts.

A recommender is ``fn(user_id, n) -> {product_id: score}``. The blend normalises each
one's scores to 0..1, weighs them (``config().weights``), drops what the person must not
see (bought in a non-repeat category, hidden, out of stock or inactive, matching a
"never" keyword) and boosts what matches a "more of" keyword.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from quanzi.catalog.models import SKU, Product
from quanzi.recommend import als, signals
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, Hidden, Preference

Recommender = Callable[[int, int], dict[int, float]]

RECOMMENDERS: dict[str, Recommender] = {
    "friends": lambda user_id, n: signals.friends_scores(user_id),
    "als": lambda user_id, n: _als(user_id, n),
    "community": lambda user_id, n: signals.community_scores(user_id),
    "popular": lambda user_id, n: signals.popular_scores(),
}
# The reason each recommender gives the person (labels: recommend_reason).
REASONS = {
    "friends": "friends_bought",
    "als": "similar_taste",
    "community": "popular_nearby",
    "popular": "popular",
}


def _als(user_id: int, n: int) -> dict[int, float]:
    factors = als.active_factors()
    return factors.scores(user_id, n) if factors is not None else {}


@dataclass
class Scored:
    product_id: int
    score: float
    reasons: list[str]


@dataclass
class Tastes:
    follow: list[str]
    never: list[str]

    @classmethod
    def of(cls, user_id: int) -> Tastes:
        row = (
            Preference.objects.filter(user_id=user_id)
            .values_list("follow_keywords", "never_keywords")
            .first()
        )
        if row is None:
            return cls([], [])
        return cls([k.lower() for k in row[0] if k], [k.lower() for k in row[1] if k])


_catalog: dict[str, object] = {"at": 0.0, "rows": {}}
CATALOG_TTL = 60.0


def _texts() -> dict[int, tuple[str, str]]:
    """product id → (lowercased title + category, category name), refreshed every 60 s."""
    if time.monotonic() - float(_catalog["at"]) > CATALOG_TTL:
        rows = Product.objects.filter(is_active=True).values_list("pk", "title", "category__name")
        _catalog["rows"] = {
            pk: (f"{title} {cat or ''}".lower(), cat or "") for pk, title, cat in rows
        }
        _catalog["at"] = time.monotonic()
    return _catalog["rows"]  # type: ignore[return-value]


def catalog_forget() -> None:
    _catalog["at"] = 0.0


def excluded_for(user_id: int) -> set[int]:
    """Bought in a non-repeat category, and hidden."""
    out = set(Hidden.objects.filter(user_id=user_id).values_list("product_id", flat=True))
    bought = set(
        Event.objects.filter(user_id=user_id, kind="order").values_list("product_id", flat=True)
    )
    repeat = set(config().repeat_categories)
    texts = _texts()
    out |= {pid for pid in bought if not (repeat and texts.get(pid, ("", ""))[1] in repeat)}
    return out


def in_stock(product_ids) -> set[int]:
    return set(
        SKU.objects.filter(product_id__in=list(product_ids), is_active=True, stock__gt=0)
        .values_list("product_id", flat=True)
        .distinct()
    )


def blend(
    user_id: int,
    *,
    limit: int,
    weights: dict[str, float] | None = None,
    check_stock: bool = True,
) -> list[Scored]:
    cfg = config()
    weights = cfg.weights if weights is None else weights
    n = cfg.candidates
    total: dict[int, float] = {}
    reasons: dict[int, list[str]] = {}
    for name, weight in weights.items():
        if weight <= 0 or name not in RECOMMENDERS:
            continue
        scores = RECOMMENDERS[name](user_id, n)
        if not scores:
            continue
        top = max(scores.values()) or 1.0
        for pid, score in scores.items():
            if score <= 0:
                continue
            total[pid] = total.get(pid, 0.0) + weight * score / top
            reasons.setdefault(pid, []).append(REASONS[name])
    return finish(user_id, total, reasons, limit=limit, check_stock=check_stock)


def finish(user_id, total, reasons, *, limit: int, check_stock: bool = True) -> list[Scored]:
    """Exclusions and boosts, then the top ``limit``."""
    cfg = config()
    tastes = Tastes.of(user_id)
    texts = _texts()
    drop = excluded_for(user_id)
    kept: dict[int, float] = {}
    for pid, score in total.items():
        text = texts.get(pid)
        if text is None or pid in drop:
            continue  # inactive or unknown product, bought, hidden
        if any(word in text[0] for word in tastes.never):
            continue
        if tastes.follow and any(word in text[0] for word in tastes.follow):
            score += cfg.keyword_boost
            reasons[pid] = [*reasons.get(pid, []), "your_keywords"]
        kept[pid] = score
    ranked = sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))
    out: list[Scored] = []
    # Stock is checked live, a page of candidates at a time.
    step = max(limit * 2, 20)
    for start in range(0, len(ranked), step):
        chunk = ranked[start : start + step]
        stocked = in_stock(pid for pid, _ in chunk) if check_stock else {p for p, _ in chunk}
        for pid, score in chunk:
            if pid in stocked:
                out.append(Scored(pid, round(score, 6), reasons.get(pid, [])))
                if len(out) >= limit:
                    return out
    return out
