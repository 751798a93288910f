"""Celery for production (``QUANZI_REDIS_URL`` set): Redis as the broker, beat for sweeps.

* ``run_service_task(path, kwargs)`` runs one service call that ``core.tasks.enqueue``
  queued after its transaction committed. Every such call is idempotent, so the task is
  acknowledged only after it ran (a worker killed mid-task leaves it to be delivered
  again) and retried with exponential backoff on unexpected errors. A business refusal
  (``QuanziError``) is final and not retried.
* ``run_sweep_task(name)`` runs one sweep registered with ``@sweep`` under a Redis lock
  named after it: several workers with beat never run the same sweep at the same time.
  The lock expires ``SWEEP_LOCK_TTL`` seconds after its holder stops renewing it, so a
  worker killed mid-sweep delays the next run by at most that much.
* ``SweepScheduler`` builds beat's schedule from ``quanzi.core.jobs.discover()`` when beat
  starts — every sweep any app registers, none listed here — and runs each one at once.
* ``worker_main(concurrency=...)`` is ``quanzi worker``: a Celery worker with embedded beat.

The request id of the web request that queued a task travels in the message headers and
is on every log line the task writes.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from celery import Celery, Task, signals
from celery.beat import Scheduler
from kombu.exceptions import OperationalError

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger, log_context, new_request_id, request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")

log = get_logger("quanzi.celery")

app = Celery("quanzi")
app.config_from_object("django.conf:settings", namespace="CELERY")

REQUEST_ID_HEADER = "quanzi_request_id"
SWEEP_TASK = "quanzi.sweep"


@signals.setup_logging.connect
def _keep_django_logging(**_: Any) -> None:
    """Django's LOGGING (JSON lines with ids) stays in charge of the worker's logs too."""


@signals.before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **_: Any) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


@contextlib.contextmanager
def _task_context(task: Task) -> Iterator[None]:
    request = task.request
    request_id = getattr(request, REQUEST_ID_HEADER, None) or (request.headers or {}).get(
        REQUEST_ID_HEADER
    )
    token = request_id_var.set(request_id or new_request_id())
    try:
        with log_context(task=task.name, task_id=request.id):
            yield
    finally:
        request_id_var.reset(token)


class QuanziTask(Task):
    """A task whose queueing never fails the caller: work that could not be queued is
    picked up by its sweep (refund retries, expiries...)."""

    def apply_async(self, args=None, kwargs=None, **options):  # type: ignore[override]
        try:
            return super().apply_async(args, kwargs, **options)
        except OperationalError:
            log.exception(
                "could not queue the task; its sweep will pick the work up",
                extra={"task": self.name, "task_args": args},
            )
            return None


@app.task(
    bind=True,
    base=QuanziTask,
    name="quanzi.run_service_task",
    autoretry_for=(Exception,),
    dont_autoretry_for=(QuanziError,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
)
def run_service_task(self: Task, path: str, kwargs: dict[str, Any]) -> None:
    """Run ``path(**kwargs)``: a Quanzi service call, idempotent by contract."""
    from quanzi.core.tasks import run_task

    if not path.startswith("quanzi."):
        raise QuanziError("task_refused", f"not a Quanzi service: {path}")
    with _task_context(self):
        started = time.monotonic()
        run_task(path, kwargs)
        log.info(
            "task done",
            extra={
                "path": path,
                "attempt": self.request.retries + 1,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )


# --- sweeps: one Redis lock per sweep name -------------------------------------------

_clients: dict[str, Any] = {}


def redis_client(url: str | None = None):
    import redis
    from django.conf import settings

    url = url or settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5)
    return client


@contextlib.contextmanager
def sweep_lock(name: str, *, ttl: float | None = None, client=None) -> Iterator[bool]:
    """Hold the Redis lock of sweep ``name`` for the block; yields False if another has it.

    A thread renews the lock every ``ttl / 3`` seconds while the block runs, so a long
    sweep keeps it, and a dead holder's lock lapses ``ttl`` seconds after its last renewal.
    """
    from django.conf import settings
    from redis.exceptions import LockError

    ttl = float(ttl or settings.SWEEP_LOCK_TTL)
    client = client or redis_client()
    lock = client.lock(f"quanzi:sweep-lock:{name}", timeout=ttl, thread_local=False)
    if not lock.acquire(blocking=False):
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                lock.reacquire()
            except LockError:
                log.warning("sweep lock lost while running", extra={"job": name})
                return
            except Exception:  # noqa: BLE001 - Redis hiccup: try again next beat
                log.exception("sweep lock renewal failed", extra={"job": name})

    renewer = threading.Thread(target=renew, name=f"sweep-lock-{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join(timeout=5)
        with contextlib.suppress(LockError):
            lock.release()


@app.task(bind=True, base=QuanziTask, name=SWEEP_TASK)
def run_sweep_task(self: Task, name: str) -> int | None:
    """Run sweep ``name`` once unless another worker is running it right now."""
    from quanzi.core.jobs import discover, run_sweep

    with _task_context(self):
        job = discover().get(name)
        if job is None:
            log.warning("unknown sweep", extra={"job": name})
            return None
        with sweep_lock(name) as acquired:
            if not acquired:
                log.info("sweep already running elsewhere; skipped", extra={"job": name})
                return None
            try:
                return run_sweep(job)
            except Exception:  # noqa: BLE001 - logged and recorded by run_sweep; beat retries
                return None


# --- beat -------------------------------------------------------------------------------


def sweep_interval(every: int) -> int:
    from django.conf import settings

    cap = settings.SWEEP_INTERVAL_CAP
    return max(1, min(every, cap) if cap > 0 else every)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One beat entry per sweep registered with ``quanzi.core.jobs``."""
    from quanzi.core.jobs import discover

    schedule = {}
    for name, job in sorted(discover().items()):
        every = sweep_interval(job.every)
        schedule[f"sweep:{name}"] = {
            "task": SWEEP_TASK,
            "schedule": timedelta(seconds=every),
            "args": (name,),
            # A sweep message older than its interval is dropped: the next one comes.
            "options": {"expires": max(every, 5)},
        }
    return schedule


class SweepScheduler(Scheduler):
    """In-memory beat schedule built from the registered sweeps, each one due at start."""

    def setup_schedule(self) -> None:
        super().setup_schedule()
        entries = beat_schedule()
        now = self.app.now()
        for entry in entries.values():
            entry["last_run_at"] = now - entry["schedule"]
        self.update_from_dict(entries)
        log.info("beat schedule", extra={"sweeps": sorted(entries)})


def worker_main(*, concurrency: int = 2, beat: bool | None = None) -> int:
    """``quanzi worker`` with Redis: a Celery worker, with embedded beat unless turned off."""
    from django.conf import settings

    beat = settings.WORKER_BEAT if beat is None else beat
    argv = [
        "worker",
        f"--concurrency={max(1, concurrency)}",
        f"--hostname=quanzi-{os.getpid()}@%h",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv += ["--beat", "--scheduler=quanzi.core.celery:SweepScheduler"]
    try:
        app.worker_main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
