"""Background work: run in-process in the embedded mode, on Celery in production.

``enqueue("dotted.path.to.function", **kwargs)`` schedules the call after the current
transaction commits. Every task is an idempotent service call, so running it twice or
after a crash is harmless.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from quanzi.core.logging import get_logger

log = get_logger("quanzi.tasks")


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_task(path: str, kwargs: dict[str, Any]) -> Any:
    return resolve(path)(**kwargs)


def enqueue(path: str, **kwargs: Any) -> None:
    """Run ``path(**kwargs)`` once the surrounding transaction has committed."""

    def dispatch() -> None:
        if settings.TASKS_EAGER:
            try:
                run_task(path, kwargs)
            except Exception:  # the sweep retries it; a request must not fail for it
                log.exception("task failed; its sweep will retry", extra={"task": path})
        else:
            from quanzi.core.celery import run_service_task

            run_service_task.delay(path, kwargs)

    transaction.on_commit(dispatch)
