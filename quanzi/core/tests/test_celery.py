"""Celery: service tasks retried with backoff, sweeps scheduled from the registry and
locked per name in Redis (the multi-process run is tests/e2e/test_production.py)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction
from django.test import override_settings

from quanzi.core import celery as qz_celery
from quanzi.core import jobs
from quanzi.core.errors import Conflict
from quanzi.core.models import JobRun

REDIS_TEST_URL = "redis://127.0.0.1:6379/6"

calls: list[dict] = []
failures_left = {"n": 0}


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=0.5).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


needs_redis = pytest.mark.skipif(
    not _redis_up(), reason=f"Redis is not reachable at {REDIS_TEST_URL}"
)


def flaky_service(*, value: int) -> int:
    """Fails ``failures_left`` times, then records the call (a task target for the tests)."""
    if failures_left["n"] > 0:
        failures_left["n"] -= 1
        raise ConnectionError("gateway timeout")
    calls.append({"value": value})
    return value


def refusing_service(*, value: int) -> None:
    calls.append({"refused": value})
    raise Conflict("nope", "a business rule said no")


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()
    failures_left["n"] = 0
    yield
    calls.clear()


PATH = "quanzi.core.tests.test_celery.flaky_service"


def test_a_service_task_runs_the_call():
    result = qz_celery.run_service_task.apply(args=(PATH, {"value": 7}))
    assert result.successful()
    assert calls == [{"value": 7}]


def test_an_unexpected_error_is_retried_with_exponential_backoff():
    failures_left["n"] = 2
    result = qz_celery.run_service_task.apply(args=(PATH, {"value": 3}))
    assert result.successful()
    assert calls == [{"value": 3}]  # ran once it stopped failing
    task = qz_celery.run_service_task
    assert task.retry_backoff and task.retry_jitter and task.max_retries >= 5


def test_a_business_refusal_is_final_and_not_retried():
    result = qz_celery.run_service_task.apply(
        args=("quanzi.core.tests.test_celery.refusing_service", {"value": 1})
    )
    assert result.failed()
    assert calls == [{"refused": 1}]


def test_only_quanzi_services_can_be_run():
    result = qz_celery.run_service_task.apply(args=("os.system", {"command": "true"}))
    assert result.failed() and calls == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_sends_to_celery_only_after_commit_when_not_eager(monkeypatch):
    from quanzi.core.tasks import enqueue

    sent = []
    monkeypatch.setattr(
        qz_celery.run_service_task, "delay", lambda path, kwargs: sent.append((path, kwargs))
    )
    with override_settings(TASKS_EAGER=False):
        with transaction.atomic():
            enqueue(PATH, value=5)
            assert sent == []
        assert sent == [(PATH, {"value": 5})]
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(PATH, value=6)
            raise RuntimeError("rolled back")
    assert sent == [(PATH, {"value": 5})] and calls == []


def test_a_broker_outage_never_fails_the_caller(monkeypatch):
    from celery.app.task import Task
    from kombu.exceptions import OperationalError

    def broker_down(self, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Task, "apply_async", broker_down)
    assert qz_celery.run_service_task.delay(PATH, {"value": 1}) is None


def test_the_beat_schedule_has_every_registered_sweep_and_all_are_due_at_start():
    registered = jobs.discover()
    try:
        jobs.sweep("core.test_added_late", every=45)(lambda: 0)
        schedule = qz_celery.beat_schedule()
        names = {entry["args"][0] for entry in schedule.values()}
        assert names == set(registered) | {"core.test_added_late"}
        for entry in schedule.values():
            assert entry["task"] == qz_celery.SWEEP_TASK
            every = jobs.discover()[entry["args"][0]].every
            assert entry["schedule"].total_seconds() == every
        with override_settings(SWEEP_INTERVAL_CAP=2):
            capped = qz_celery.beat_schedule()
        assert {e["schedule"].total_seconds() for e in capped.values()} <= {1, 2}

        scheduler = qz_celery.SweepScheduler(app=qz_celery.app, lazy=False)
        sweep_entries = {k: v for k, v in scheduler.schedule.items() if k.startswith("sweep:")}
        assert set(sweep_entries) == set(schedule)
        assert all(entry.is_due().is_due for entry in sweep_entries.values())
    finally:
        jobs._SWEEPS.pop("core.test_added_late", None)


@needs_redis
def test_one_holder_at_a_time_and_a_dead_holders_lock_lapses():
    client = qz_celery.redis_client(REDIS_TEST_URL)
    client.delete("quanzi:sweep-lock:t1")
    with qz_celery.sweep_lock("t1", ttl=1, client=client) as first:
        assert first is True
        with qz_celery.sweep_lock("t1", ttl=1, client=client) as second:
            assert second is False
    with qz_celery.sweep_lock("t1", ttl=1, client=client) as again:
        assert again is True  # released at the end of the block
    # A holder that died without releasing: its lock lapses after the ttl.
    client.lock("quanzi:sweep-lock:t1", timeout=1).acquire(blocking=False)
    with qz_celery.sweep_lock("t1", ttl=1, client=client) as while_held:
        assert while_held is False
    time.sleep(1.2)
    with qz_celery.sweep_lock("t1", ttl=1, client=client) as after:
        assert after is True


@needs_redis
def test_a_long_sweep_keeps_its_lock_past_the_ttl():
    client = qz_celery.redis_client(REDIS_TEST_URL)
    client.delete("quanzi:sweep-lock:t2")
    with qz_celery.sweep_lock("t2", ttl=0.6, client=client) as held:
        assert held
        time.sleep(1.5)  # 2.5 × ttl: renewed meanwhile
        with qz_celery.sweep_lock("t2", ttl=0.6, client=client) as other:
            assert other is False


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_the_same_sweep_at_once():
    client = qz_celery.redis_client(REDIS_TEST_URL)
    client.delete("quanzi:sweep-lock:core.test_slow")
    running = {"now": 0, "max": 0, "runs": 0}
    guard = threading.Lock()

    def slow_sweep() -> int:
        with guard:
            running["now"] += 1
            running["runs"] += 1
            running["max"] = max(running["max"], running["now"])
        time.sleep(0.5)
        with guard:
            running["now"] -= 1
        return 1

    jobs.sweep("core.test_slow", every=60)(slow_sweep)
    barrier = threading.Barrier(4)

    def worker():
        from django.db import connection

        barrier.wait()
        qz_celery.run_sweep_task.apply(args=("core.test_slow",))
        connection.close()

    try:
        with override_settings(REDIS_URL=REDIS_TEST_URL, SWEEP_LOCK_TTL=5):
            threads = [threading.Thread(target=worker) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert running["max"] == 1 and running["runs"] >= 1
            runs = running["runs"]
            qz_celery.run_sweep_task.apply(args=("core.test_slow",))  # lock free again
            assert running["runs"] == runs + 1
        assert JobRun.objects.filter(name="core.test_slow", processed=1).count() == runs + 1
    finally:
        jobs._SWEEPS.pop("core.test_slow", None)
