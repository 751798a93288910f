"""Recording interactions cheaply: a request appends to a per-transaction buffer and one
``INSERT`` writes it after commit (nothing is written for a rolled-back change, and
the request's own transaction never waits on it)."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from quanzi.core.logging import get_logger
from quanzi.core.sql import insert_many
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, EventKind

log = get_logger("quanzi.recommend")
_local = threading.local()


def event_record(*, user_id: int | None, product_id: int, kind: str, weight: float | None = None):
    """Queue one interaction; anonymous visitors are not recorded."""
    if not user_id or kind not in EventKind.values:
        return
    event = Event(
        user_id=user_id,
        product_id=product_id,
        kind=kind,
        weight=weight if weight is not None else config().event_weights.get(kind, 1.0),
        created_at=timezone.now(),
    )
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        _write([event])
        return
    # One buffer per transaction: appended to while its flush is still queued on this
    # connection; a rolled-back transaction discards the flush, so the next starts anew.
    flush = getattr(_local, "flush", None)
    if flush is None or not any(entry[1] is flush for entry in conn.run_on_commit):
        buffer: list[Event] = []

        def flush() -> None:
            _write(buffer)

        _local.flush, _local.buffer = flush, buffer
        transaction.on_commit(flush)
    _local.buffer.append(event)


def _write(events: list[Event]) -> None:
    if not events:
        return
    try:
        # One statement (its own commit after the request's), not bulk_create's
        # BEGIN, INSERT, COMMIT.
        insert_many(events)
    except Exception:  # noqa: BLE001 - losing a view must never fail a page
        log.exception("events not written", extra={"count": len(events)})
    events.clear()


def events_prune(*, days: int | None = None) -> int:
    cutoff = timezone.now() - timedelta(days=days or config().event_days)
    deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
    return deleted
