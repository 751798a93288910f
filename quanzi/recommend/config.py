"""The recommender's knobs, from Django settings ``QUANZI_RECOMMEND`` (a dict) over these
defaults; ``QUANZI_RECOMMEND_WEIGHTS=friends:1,als:1,community:0.5,popular:0.2`` in the
environment sets the blend."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from django.conf import settings


def _env_weights() -> dict[str, float]:
    raw = os.environ.get("QUANZI_RECOMMEND_WEIGHTS", "")
    out = {}
    for part in raw.split(","):
        name, _, value = part.partition(":")
        if name.strip() and value.strip():
            out[name.strip()] = float(value)
    return out


@dataclass(frozen=True)
class RecommendConfig:
    weights: dict[str, float] = field(
        default_factory=lambda: {"friends": 1.0, "als": 1.0, "community": 0.5, "popular": 0.2}
    )
    keyword_boost: float = 0.5  # added to the blended score of a "more of" match
    event_weights: dict[str, float] = field(
        default_factory=lambda: {
            "view": 1.0,
            "note_open": 1.0,
            "like": 2.0,
            "favourite": 3.0,
            "cart": 3.0,
            "share": 4.0,
            "order": 5.0,
        }
    )
    repeat_categories: tuple[str, ...] = ()  # category names bought again and again
    event_days: int = 180  # events older than this are pruned
    recency_half_life_days: float = 30.0
    popular_days: int = 30
    factors: int = 32
    iterations: int = 15
    regularization: float = 0.05
    precompute_ttl_seconds: int = 6 * 3600
    active_days: int = 30  # a person with an event this recent gets a precomputed list
    candidates: int = 200  # per recommender, before exclusions
    push_items: int = 3


def config() -> RecommendConfig:
    overrides = dict(getattr(settings, "QUANZI_RECOMMEND", {}) or {})
    weights = {**RecommendConfig().weights, **overrides.pop("weights", {}), **_env_weights()}
    return RecommendConfig(weights=weights, **overrides)
