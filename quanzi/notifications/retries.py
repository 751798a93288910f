"""Sending again the pushes that failed: one loop for every push channel's send log.

A channel keeps one row per message (``status``, ``next_try_at``) and an ``attempt(send_id=)``
that sends it once more; this picks the rows whose time came, oldest first, and never lets
one bad message stall the others.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models
from django.utils import timezone

from quanzi.core.logging import get_logger

log = get_logger("quanzi.notifications")


def retry_due(
    model: type[models.Model],
    attempt: Callable[..., object],
    *,
    failed: str,
    what: str,
    now=None,
    batch: int = 200,
) -> int:
    """Run ``attempt`` for up to ``batch`` rows of ``model`` in status ``failed`` whose
    ``next_try_at`` has come; returns how many were tried."""
    now = now or timezone.now()
    due = list(
        model.objects.filter(status=failed, next_try_at__lte=now)
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:batch]
    )
    for send_id in due:
        try:
            attempt(send_id=send_id)
        except Exception:  # noqa: BLE001 - one bad message never stalls the others
            log.exception(f"{what} retry failed", extra={"send_id": send_id})
    return len(due)
