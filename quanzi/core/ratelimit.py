"""Rate limits on Django's cache: LocMem in the embedded mode, Redis in production.

``rate_limit(key, limit, window_seconds)`` counts one attempt in a fixed window and raises
``RateLimited`` (429, code ``rate_limited``) past ``limit``. The counter is one atomic
increment with an expiry, so every app process behind the proxy shares it when the cache
is Redis.

Endpoints call ``rate_limit_request(request, action, ...)``, which applies the operator's
limits from the ``rate_limits`` settings section per client IP and, when given, per phone
or per user:

    rate_limit_request(request, "coupon_claim", user_id=request.auth.pk)
    rate_limit_request(request, "bargain_help", user_id=request.auth.pk)
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from django.conf import settings
from django.core.cache import cache

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
    cache_key = f"quanzi:rl:{window_seconds}:{window}:{digest}"
    # add() is SET NX with an expiry; incr() is atomic. The key lives a little longer
    # than its window so that it cannot expire between the two calls.
    try:
        if cache.add(cache_key, 1, timeout=window_seconds + 5):
            count = 1
        else:
            try:
                count = cache.incr(cache_key)
            except ValueError:  # expired in between: this attempt opens the window again
                cache.add(cache_key, 1, timeout=window_seconds + 5)
                count = 1
    except Exception:  # noqa: BLE001 - the cache is down: serve rather than lock everyone out
        log.warning("rate limit cache unavailable; not limiting", exc_info=True)
        return 0
    if count > limit:
        retry_after = max(1, int((window + 1) * window_seconds - now) + 1)
        raise RateLimited(
            "rate_limited",
            "too many attempts; try again later",
            {"retry_after": retry_after, "limit": limit, "window_seconds": window_seconds},
        )
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
