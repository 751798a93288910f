"""Cursor pagination: ``{"items": [...], "next_cursor": "..." | null}``, newest first by id."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from quanzi.core.errors import Invalid

MAX_LIMIT = 100


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, value = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("invalid_cursor", "the cursor is not one this API gave out") from exc


def paginate(
    qs: QuerySet,
    *,
    cursor: str | None,
    limit: int | None,
    serialize: Callable[[Any], Any],
    ascending: bool = False,
) -> dict[str, Any]:
    """Page ``qs`` by primary key (descending unless ``ascending``)."""
    size = 20 if limit is None else limit
    if size < 1 or size > MAX_LIMIT:
        raise Invalid("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
    qs = qs.order_by("pk" if ascending else "-pk")
    if cursor:
        last = decode_cursor(cursor)
        qs = qs.filter(pk__gt=last) if ascending else qs.filter(pk__lt=last)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {
        "items": [serialize(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None,
    }
