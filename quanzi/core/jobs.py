"""Sweeps: every timed transition is an idempotent job that can run twice or crash halfway.

Apps register their sweeps with ``@sweep(name, every=seconds)`` in a ``jobs`` module;
``quanzi jobs run`` runs all of them once, ``quanzi worker`` runs them on schedule.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from quanzi.core.logging import get_logger

log = get_logger("quanzi.jobs")


@dataclass(frozen=True)
class Sweep:
    name: str
    every: int
    func: Callable[[], int]


_SWEEPS: dict[str, Sweep] = {}


def sweep(name: str, *, every: int = 60) -> Callable[[Callable[[], int]], Callable[[], int]]:
    def register(func: Callable[[], int]) -> Callable[[], int]:
        _SWEEPS[name] = Sweep(name=name, every=every, func=func)
        return func

    return register


# How long one run of a draining sweep keeps taking batches.
DRAIN_SECONDS = 120.0


def drain(step: Callable[..., int], *, batch: int, seconds: float = DRAIN_SECONDS) -> int:
    """Run ``step(batch=batch)`` (one batch; returns how many items it did) again while it
    did a full batch and ``seconds`` have not passed, so a backlog — a flash sale's
    orders all due at once — is worked off in one run, not one batch per interval. A
    batch with anything left undone (skipped, failed) ends the run: the next one retries."""
    deadline = time.monotonic() + seconds
    total = 0
    while True:
        done = step(batch=batch)
        total += done
        if done < batch or time.monotonic() >= deadline:
            return total


def drain_past_failures(
    step: Callable[..., int], *, batch: int, seconds: float = DRAIN_SECONDS
) -> int:
    """``drain`` for a sweep that skips the items that fail: ``step(batch=, failed=)``
    leaves out the ids in ``failed`` (a set kept for this run) and adds to it each id it
    logged and skipped. Another batch is taken while the last one was full counting its
    failures, so one bad item neither ends the run nor is retried in a loop within it;
    the next run tries it once again."""
    deadline = time.monotonic() + seconds
    failed: set[int] = set()
    total = 0
    while True:
        before = len(failed)
        done = step(batch=batch, failed=failed)
        total += done
        if done + len(failed) - before < batch or time.monotonic() >= deadline:
            return total


def discover() -> dict[str, Sweep]:
    for config in apps.get_app_configs():
        if config.name.startswith("quanzi."):
            try:
                importlib.import_module(f"{config.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.jobs":
                    raise
    return dict(_SWEEPS)


def run_sweep(job: Sweep) -> int:
    from quanzi.core.models import JobRun

    run = JobRun.objects.create(name=job.name, started_at=timezone.now())
    try:
        processed = job.func()
    except Exception as exc:
        run.error = repr(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        log.exception("sweep failed", extra={"job": job.name})
        raise
    run.processed = processed or 0
    run.finished_at = timezone.now()
    run.save(update_fields=["processed", "finished_at"])
    if processed:
        log.info("sweep done", extra={"job": job.name, "processed": processed})
    return run.processed


def run_all() -> dict[str, int]:
    """Run every registered sweep once; a failing sweep does not stop the others."""
    results: dict[str, int] = {}
    failures = []
    for job in discover().values():
        try:
            results[job.name] = run_sweep(job)
        except Exception as exc:  # noqa: BLE001 - reported after the others ran
            failures.append((job.name, exc))
    if failures:
        raise RuntimeError(f"sweeps failed: {', '.join(name for name, _ in failures)}")
    return results


def run_forever(*, tick: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
    """The embedded worker: run each sweep when its interval has passed."""
    last: dict[str, float] = {}
    while not stop():
        now = time.monotonic()
        for job in discover().values():
            if now - last.get(job.name, 0.0) >= job.every:
                last[job.name] = now
                try:
                    run_sweep(job)
                except Exception:  # noqa: BLE001 - logged in run_sweep; next tick retries
                    pass
        time.sleep(tick)


# --- the sweeps' own records ----------------------------------------------------------

# How long each sweep's runs are kept (every 30 s makes ~2,900 rows a day per sweep).
JOB_RUNS_KEEP_DAYS = 14


def job_runs_prune(*, now=None, batch: int = 10_000) -> int:
    """Forget runs older than ``JOB_RUNS_KEEP_DAYS``, ``batch`` rows at a time; each
    sweep's last run stays whatever its age (``/healthz`` reports it)."""
    from datetime import timedelta

    from django.db.models import Max

    from quanzi.core.models import JobRun

    cutoff = (now or timezone.now()) - timedelta(days=JOB_RUNS_KEEP_DAYS)
    last_of_each = JobRun.objects.values("name").annotate(last=Max("id")).values("last")
    ids = list(
        JobRun.objects.filter(started_at__lt=cutoff)
        .exclude(pk__in=last_of_each)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    if ids:
        JobRun.objects.filter(pk__in=ids).delete()
    return len(ids)


@sweep("core.prune_job_runs", every=3600)
def prune_job_runs() -> int:
    return drain(job_runs_prune, batch=10_000)
