"""Reading the social graph and the interaction log (no writes here)."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from datetime import timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, Preference

# Tie strength of each kind of link between two people.
TIES = {"mutual_follow": 1.0, "referrer": 0.8, "downline": 0.8, "follow": 0.6}
# Interactions that say "I want this" (views do not count as a friend's endorsement).
STRONG = ("order", "like", "favourite", "cart", "share")


def friends_of(user_id: int) -> dict[int, float]:
    """People ``user_id`` is tied to, with the strongest tie's strength."""
    from quanzi.content.models import Follow

    ties: dict[int, float] = {}
    following = set(
        Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)
    )
    followers = set(
        Follow.objects.filter(followee_id=user_id).values_list("follower_id", flat=True)
    )
    for other in following:
        ties[other] = TIES["mutual_follow"] if other in followers else TIES["follow"]
    referrer = User.objects.filter(pk=user_id).values_list("referrer_id", flat=True).first()
    if referrer:
        ties[referrer] = max(ties.get(referrer, 0), TIES["referrer"])
    for other in User.objects.filter(referrer_id=user_id).values_list("pk", flat=True):
        ties[other] = max(ties.get(other, 0), TIES["downline"])
    ties.pop(user_id, None)
    return ties


def sharing_friends(user_id: int) -> dict[int, float]:
    """Friends who let their friends see what they bought."""
    ties = friends_of(user_id)
    if not ties:
        return {}
    allowed = set(
        Preference.objects.filter(user_id__in=ties, show_purchases=True).values_list(
            "user_id", flat=True
        )
    )
    return {uid: tie for uid, tie in ties.items() if uid in allowed}


def decay(age_days: float) -> float:
    return 0.5 ** (age_days / config().recency_half_life_days)


def friends_scores(user_id: int) -> dict[int, float]:
    """Products the user's (consenting) friends bought or liked, by tie and recency."""
    ties = sharing_friends(user_id)
    if not ties:
        return {}
    now = timezone.now()
    since = now - timedelta(days=config().event_days)
    scores: dict[int, float] = defaultdict(float)
    rows = Event.objects.filter(
        user_id__in=list(ties), kind__in=STRONG, created_at__gte=since
    ).values_list("user_id", "product_id", "weight", "created_at")
    for uid, pid, weight, at in rows:
        age = (now - at).total_seconds() / 86400
        scores[pid] += ties[uid] * weight * decay(age)
    return dict(scores)


_popular_cache: dict[object, tuple[float, dict[int, float]]] = {}
POPULAR_TTL = 300.0


def _popular(key: object, users: Q | None) -> dict[int, float]:
    held = _popular_cache.get(key)
    if held is not None and time.monotonic() - held[0] < POPULAR_TTL:
        return held[1]
    since = timezone.now() - timedelta(days=config().popular_days)
    qs = Event.objects.filter(created_at__gte=since)
    if users is not None:
        qs = qs.filter(users)
    rows = (
        qs.values("product_id")
        .annotate(total=Sum("weight"))
        .order_by("-total")[: config().candidates]
    )
    scores = {row["product_id"]: math.log1p(row["total"]) for row in rows}
    _popular_cache[key] = (time.monotonic(), scores)
    return scores


def popular_scores() -> dict[int, float]:
    return _popular("all", None)


def community_scores(user_id: int) -> dict[int, float]:
    """Popular among the people who pick up at the user's pickup point."""
    from quanzi.community.models import CustomerPoint

    point_id = (
        CustomerPoint.objects.filter(user_id=user_id).values_list("point_id", flat=True).first()
    )
    if point_id is None:
        return {}
    neighbours = CustomerPoint.objects.filter(point_id=point_id).values("user_id")
    return _popular(("point", point_id), Q(user_id__in=neighbours))


def popular_clear() -> None:
    _popular_cache.clear()
