"""Rate limits, counted where every app process sees the same count.

``rate_limit(key, limit, window_seconds)`` counts one attempt in a fixed window and raises
``RateLimited`` (429, code ``rate_limited``) past ``limit``. The counter lives in

* the cache (one atomic increment with an expiry) when the cache is shared between
  processes: Redis in production;
* the database otherwise (``RateLimitCounter``: one ``INSERT … ON CONFLICT DO UPDATE``
  per attempt). A per-process memory cache would let each of N server processes allow
  the limit again, so the real limit would silently grow with ``--workers``.

``QUANZI_RATE_LIMIT_STORE`` (``auto`` | ``cache`` | ``database``) overrides the choice.

Endpoints call ``rate_limit_request(request, action, ...)``, which applies the operator's
limits from the ``rate_limits`` settings section per client IP and, when given, per phone
or per user:

    rate_limit_request(request, "coupon_claim", user_id=request.auth.pk)
    rate_limit_request(request, "bargain_help", user_id=request.auth.pk)
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction

from quanzi.core.errors import RateLimited
from quanzi.core.logging import get_logger

log = get_logger("quanzi.ratelimit")

Action = Literal["login", "register", "coupon_claim", "bargain_help"]


def rate_limit(key: str, limit: int, window_seconds: int) -> int:
    """Count one attempt under ``key``; raise ``RateLimited`` past ``limit`` per window.

    Returns the number of attempts in the current window (this one included), or 0 when
    the cache cannot be reached (limits fail open: the shop keeps serving).
    """
    now = time.time()
    window = int(now // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # any key is a valid cache key
    counter_key = f"quanzi:rl:{window_seconds}:{window}:{digest}"
    expires = (window + 1) * window_seconds + 5  # a little past its window's end
    if rate_limit_store() == "database":
        count = _count_in_database(counter_key, expires, now)
    else:
        count = _count_in_cache(counter_key, timeout=window_seconds + 5)
    if count == 0:
        return 0
    if count > limit:
        retry_after = max(1, int((window + 1) * window_seconds - now) + 1)
        raise RateLimited(
            "rate_limited",
            "too many attempts; try again later",
            {"retry_after": retry_after, "limit": limit, "window_seconds": window_seconds},
        )
    return count


def shared_cache() -> bool:
    """Whether Django's cache is one store for every process (not per-process memory)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return not backend.endswith(("LocMemCache", "DummyCache"))


def rate_limit_store() -> str:
    """``cache`` or ``database``: where the counters are kept (see the module docstring)."""
    store = getattr(settings, "RATE_LIMIT_STORE", "auto")
    if store == "auto":
        return "cache" if shared_cache() else "database"
    return store


def _count_in_cache(cache_key: str, *, timeout: int) -> int:
    # add() is SET NX with an expiry; incr() is atomic. The key lives a little longer
    # than its window so that it cannot expire between the two calls.
    try:
        if cache.add(cache_key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(cache_key)
        except ValueError:  # expired in between: this attempt opens the window again
            cache.add(cache_key, 1, timeout=timeout)
            return 1
    except Exception:  # noqa: BLE001 - the cache is down: serve rather than lock everyone out
        log.warning("rate limit cache unavailable; not limiting", exc_info=True)
        return 0


def _count_in_database(counter_key: str, expires: float, now: float) -> int:
    from quanzi.core.models import RateLimitCounter

    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    table, key_col, count_col = (
        quote(RateLimitCounter._meta.db_table),
        quote("key"),
        quote("count"),
    )
    expires_at = conn.ops.adapt_datetimefield_value(datetime.fromtimestamp(expires, tz=UTC))
    key = hashlib.sha256(counter_key.encode()).hexdigest()[:64]
    try:
        # A savepoint inside a caller's transaction, so that a failure here cannot break it.
        with transaction.atomic(), conn.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_col}, {count_col}, expires_at) VALUES (%s, 1, %s)"
                f" ON CONFLICT ({key_col}) DO UPDATE SET {count_col} = {table}.{count_col} + 1"
                f" RETURNING {count_col}",
                [key, expires_at],
            )
            count = cursor.fetchone()[0]
        if count == 1:  # a new window opened: drop the windows that have ended
            RateLimitCounter.objects.filter(
                expires_at__lt=datetime.fromtimestamp(now, tz=UTC)
            ).delete()
    except DatabaseError:
        log.warning("rate limit counter unavailable; not limiting", exc_info=True)
        return 0
    return count


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or the entry that the trusted proxies added.

    Behind ``QUANZI_PROXY_COUNT`` proxies that each append to ``X-Forwarded-For``, the
    client is the N-th entry from the right; entries further left are the client's to forge.
    """
    count = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        parts = [part.strip() for part in forwarded.split(",") if part.strip()]
        if parts:
            return parts[-count] if len(parts) >= count else parts[0]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limit_request(
    request,
    action: Action,
    *,
    phone: str | None = None,
    user_id: int | None = None,
) -> None:
    """Apply the operator's limits for ``action``: per IP always, per phone / user if given."""
    from quanzi.core.platform_settings import get_settings

    limits = get_settings().rate_limits
    if not limits.enabled:
        return
    checks: list[tuple[str, str]] = [("ip", client_ip(request))]
    if phone:
        checks.append(("phone", phone.strip()))
    if user_id is not None:
        checks.append(("user", str(user_id)))
    for scope, value in checks:
        rule = getattr(limits, f"{action}_per_{scope}", None)
        if rule is None:
            continue
        try:
            rate_limit(f"{action}:{scope}:{value}", rule.limit, rule.window_seconds)
        except RateLimited:
            log.warning(
                "rate limited",
                extra={"action": action, "scope": scope, "limit": rule.limit},
            )
            raise
