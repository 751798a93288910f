"""Reading and writing the operator's settings (``get_settings`` is what the code calls).

``get_settings`` is called several times on every checkout, so each process keeps the
validated settings for ``CACHE_SECONDS`` instead of reading and validating the row each
time. ``settings_update`` drops the copy at once in its own process; every process
sharing the Django cache (Redis in production) sees the change through a generation
key, which it looks at no more than once per ``GENERATION_CHECK_SECONDS`` (so within a
second, without a cache round trip on every call); a process with a private cache sees
a change within ``CACHE_SECONDS``. What a transaction read
after changing the settings itself is never kept, so a rolled-back change leaves no
trace. The object returned is shared: read it, never modify it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from pydantic import ValidationError

from quanzi.core.errors import Invalid
from quanzi.core.models import PlatformSettings
from quanzi.core.settings_schema import (
    SECRET_FIELDS,
    SECRET_MASK,
    Settings,
    error_code,
    unlawful_of,
    validate_settings,
)

CACHE_SECONDS = 5.0
GENERATION_CHECK_SECONDS = 1.0
_GENERATION_KEY = "quanzi:settings:generation"
# (generation, monotonic time loaded, settings)
_cached: tuple[str, float, Settings] | None = None
# Monotonic time the cached generation was last found current in the shared cache.
_generation_checked_at = float("-inf")


def _changed_in_this_transaction() -> bool:
    conn = transaction.get_connection()
    marker = getattr(conn, "_quanzi_settings_changed_in", None)
    return bool(marker is not None and conn.atomic_blocks and conn.atomic_blocks[0] is marker)


def _cache_call(method: str, *args: Any, **kwargs: Any) -> Any:
    """The Django cache, or None when it is down (settings are then read every time)."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a cache outage must never stop checkout
        return None


def get_settings() -> Settings:
    global _cached, _generation_checked_at
    held = _cached
    now = time.monotonic()
    usable = (
        held is not None and now - held[1] < CACHE_SECONDS and not _changed_in_this_transaction()
    )
    if usable and now - _generation_checked_at < GENERATION_CHECK_SECONDS:
        return held[2]  # its generation was found current a moment ago
    generation = _cache_call("get", _GENERATION_KEY)
    if usable and generation == held[0]:
        _generation_checked_at = now
        return held[2]
    row = PlatformSettings.objects.filter(id=1).only("data").first()
    settings = validate_settings(row.data if row else {})
    if not _changed_in_this_transaction():
        if generation is None:
            fresh = uuid.uuid4().hex
            if _cache_call("add", _GENERATION_KEY, fresh, timeout=None):
                generation = fresh
            else:
                generation = _cache_call("get", _GENERATION_KEY)
        if generation is not None:
            _cached = (generation, time.monotonic(), settings)
            _generation_checked_at = time.monotonic()
    return settings


def settings_cache_clear() -> None:
    global _cached, _generation_checked_at
    _cached = None
    _generation_checked_at = float("-inf")
    _cache_call("delete", _GENERATION_KEY)


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if key in SECRET_FIELDS and isinstance(value, str) and value.startswith(SECRET_MASK):
            continue  # a secret shown masked and sent back unchanged: keep the stored one
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@transaction.atomic
def settings_update(*, patch: dict[str, Any]) -> Settings:
    """Merge ``patch`` into the stored settings, validate the result, save it."""
    if not isinstance(patch, dict):
        raise Invalid("invalid_setting", "settings must be a JSON object")
    conn = transaction.get_connection()
    conn._quanzi_settings_changed_in = conn.atomic_blocks[0]
    settings_cache_clear()
    transaction.on_commit(settings_cache_clear)
    row, _ = PlatformSettings.objects.select_for_update().get_or_create(id=1)
    current = validate_settings(row.data).model_dump()
    merged = _merge(current, patch)
    try:
        validated = validate_settings(merged)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in err["loc"]), "msg": err["msg"]} for err in exc.errors()
        ]
        unlawful = unlawful_of(exc)
        message = str(unlawful) if unlawful is not None else "invalid settings"
        raise Invalid(error_code(exc), message, {"errors": errors}) from exc
    row.data = validated.model_dump()
    row.save()
    return validated
