"""What ``GET /me/recommendations`` answers: the precomputed list when it is fresh and
from the active model, re-checked for stock, hidden products and keywords; otherwise
computed on the fly."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.core.sql import run
from quanzi.recommend import als, blend
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, Precomputed

MAX_LIMIT = 100
STORED = 100  # items kept per precomputed list


def recommendations_for(*, user_id: int, limit: int) -> list[blend.Scored]:
    """The stored list when it is fresh and from the active model (one query for the row,
    one for stock), else the blend on the fly.

    A stored list was made with every exclusion and boost applied; what could make it
    wrong later removes it instead of being re-checked here: hiding a product, changing
    keywords, and a paid order (``list_forget``). Only stock and the product still being
    on sale are checked live."""
    stored = stored_for(user_id=user_id, limit=limit)
    return stored if stored is not None else blend.blend(user_id, limit=limit)


def stored_for(*, user_id: int, limit: int) -> list[blend.Scored] | None:
    """The stored list alone (one query for the row, one for stock), or None when there
    is none that is fresh and from the active model."""
    row = (
        Precomputed.objects.filter(user_id=user_id)
        .values_list("items", "model_version", "computed_at")
        .first()
    )
    if row is not None:
        items, version, computed_at = row
        factors = als.active_factors()
        current = factors.version if factors is not None else None
        ttl = timedelta(seconds=config().precompute_ttl_seconds)
        if version == current and timezone.now() - computed_at < ttl:
            picked = _stocked(items, limit)
            if len(picked) >= min(limit, len(items)):
                return picked
    return None


def _stocked(items: list, limit: int) -> list[blend.Scored]:
    """The first ``limit`` stored items on sale with stock: one query over a page of
    candidates (more pages only when many sold out)."""
    out: list[blend.Scored] = []
    step = max(limit + limit // 2, 10)
    for start in range(0, len(items), step):
        chunk = items[start : start + step]
        stocked = set(
            SKU.objects.filter(
                product_id__in=[pid for pid, _, _ in chunk],
                is_active=True,
                stock__gt=0,
                product__is_active=True,
            ).values_list("product_id", flat=True)
        )
        for pid, score, why in chunk:
            if pid in stocked:
                out.append(blend.Scored(pid, score, list(why)))
                if len(out) >= limit:
                    return out
    return out


def list_forget(user_id: int) -> None:
    """Drop a person's stored list (after commit): the next request blends on the fly
    and the precompute sweep makes a new one."""
    # One statement (nothing refers to a stored list), not the ORM's collector with its
    # own BEGIN and COMMIT.
    table = transaction.get_connection().ops.quote_name(Precomputed._meta.db_table)
    transaction.on_commit(lambda: run(f"DELETE FROM {table} WHERE user_id = %s", [user_id]))


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
