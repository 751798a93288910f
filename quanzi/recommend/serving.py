"""What ``GET /me/recommendations`` answers: the precomputed list when it is fresh and
from the active model, re-checked for stock, hidden products and keywords; otherwise
computed on the fly."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from quanzi.recommend import als, blend
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, Precomputed

MAX_LIMIT = 100
STORED = 100  # items kept per precomputed list


def recommendations_for(*, user_id: int, limit: int) -> list[blend.Scored]:
    cfg = config()
    row = (
        Precomputed.objects.filter(user_id=user_id)
        .values_list("items", "model_version", "computed_at")
        .first()
    )
    if row is not None:
        items, version, computed_at = row
        factors = als.active_factors()
        current = factors.version if factors is not None else None
        fresh = timezone.now() - computed_at < timedelta(seconds=cfg.precompute_ttl_seconds)
        if fresh and version == current:
            total = {pid: score for pid, score, _ in items}
            reasons = {pid: list(why) for pid, _, why in items}
            # Stored scores already carry the keyword boost; strip its reason so
            # ``finish`` does not add it twice.
            for pid, why in reasons.items():
                if "your_keywords" in why:
                    why.remove("your_keywords")
                    total[pid] -= cfg.keyword_boost
            picked = blend.finish(user_id, total, reasons, limit=limit)
            if len(picked) >= min(limit, len(items)):
                return picked
    return blend.blend(user_id, limit=limit)


def precompute_one(*, user_id: int) -> Precomputed:
    items = blend.blend(user_id, limit=STORED, check_stock=False)
    factors = als.active_factors()
    row, _ = Precomputed.objects.update_or_create(
        user_id=user_id,
        defaults={
            "items": [[s.product_id, s.score, s.reasons] for s in items],
            "model_version": factors.version if factors is not None else None,
            "computed_at": timezone.now(),
        },
    )
    return row


def active_users() -> list[int]:
    since = timezone.now() - timedelta(days=config().active_days)
    return list(
        Event.objects.filter(created_at__gte=since)
        .values("user_id")
        .annotate(last=Max("created_at"))
        .order_by("-last")
        .values_list("user_id", flat=True)
    )


def precompute_all(*, limit_users: int | None = None) -> int:
    """Recompute the lists of active people whose list is stale or from an older model."""
    from quanzi.accounts.models import User

    factors = als.active_factors(fresh=True)
    current = factors.version if factors is not None else None
    stale_before = timezone.now() - timedelta(seconds=config().precompute_ttl_seconds // 2)
    users = active_users()
    existing = set(User.objects.filter(pk__in=users).values_list("pk", flat=True))
    fresh = set(
        Precomputed.objects.filter(
            user_id__in=users, computed_at__gte=stale_before, model_version=current
        ).values_list("user_id", flat=True)
    )
    done = 0
    for user_id in users:
        if user_id in fresh or user_id not in existing:
            continue
        precompute_one(user_id=user_id)
        done += 1
        if limit_users and done >= limit_users:
            break
    return done
