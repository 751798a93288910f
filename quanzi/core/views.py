"""Liveness and readiness for load balancers and monitoring.

* ``GET /readyz`` — for the load balancer: 200 ``{"ready": true}`` when this process can
  serve (database reachable, no unapplied migration, Redis reachable when configured),
  503 otherwise. Cheap: one ``SELECT 1`` (and one ``PING``) per call.
* ``GET /healthz`` — for monitoring: database, broker, queue length, work that is overdue
  and when each sweep last ran; ``shared_cache``, ``rate_limit_store`` and ``warnings``
  (several server processes without a shared cache). ``status`` is ``ok``, ``degraded`` (serving, but background
  work is behind: a sweep has not run for three of its intervals, or a refund waits past
  its retry time) or ``down`` (database or broker unreachable: 503).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from quanzi import __version__
from quanzi.core.ratelimit import rate_limit_store, shared_cache
from quanzi.core.server import cache_warnings, server_processes

STALE_GRACE_SECONDS = 60
REFUND_OVERDUE_SECONDS = 300
_migrations_ok = False  # once true in a process it stays true (migrations only move forward)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - reported as down
        return False


def _migrations_applied() -> bool:
    global _migrations_ok
    if _migrations_ok:
        return True
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001 - reported as not ready
        return False
    _migrations_ok = not plan
    return _migrations_ok


def _redis():
    from quanzi.core.celery import redis_client

    return redis_client()


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "embedded"
    try:
        _redis().ping()
        return "ok"
    except Exception:  # noqa: BLE001 - reported as down
        return "down"


def _queue_length() -> int | None:
    try:
        return int(_redis().llen("celery"))
    except Exception:  # noqa: BLE001 - the broker line says why
        return None


def _pending_jobs(now) -> dict[str, int]:
    from quanzi.orders.models import Order, Refund

    open_refunds = Refund.objects.filter(status__in=["approved", "processing"])
    return {
        "unpaid_expired": Order.objects.filter(
            status="pending_payment", expires_at__lte=now
        ).count(),
        "refunds_open": open_refunds.count(),
        "refunds_overdue": open_refunds.filter(
            next_attempt_at__lte=now - timedelta(seconds=REFUND_OVERDUE_SECONDS)
        ).count(),
    }


def _sweeps(now) -> dict[str, dict]:
    from quanzi.core.jobs import discover
    from quanzi.core.models import JobRun

    report = {}
    for name, job in sorted(discover().items()):
        last = (
            JobRun.objects.filter(name=name)
            .order_by("-started_at")
            .only("started_at", "finished_at", "error")
            .first()
        )
        deadline = now - timedelta(seconds=3 * job.every + STALE_GRACE_SECONDS)
        report[name] = {
            "every": job.every,
            "last_run_at": last.started_at.isoformat() if last else None,
            "last_error": (last.error[:200] if last and last.error else ""),
            "stale": last is None or last.started_at < deadline,
        }
    return report


@never_cache
def api_not_found(request, *args, **kwargs):
    """An address under ``/api/`` that no endpoint serves: 404 in the API's error shape."""
    return JsonResponse(
        {"code": "not_found", "message": "no such endpoint", "detail": {"path": request.path}},
        status=404,
    )


@never_cache
def healthz(request):
    now = timezone.now()
    db = _database_ok()
    broker = _broker_status()
    body: dict = {
        "status": "ok",
        "version": __version__,
        "database": "ok" if db else "down",
        "broker": broker,
        "mode": "celery" if settings.REDIS_URL else "embedded",
        "shared_cache": shared_cache(),
        "rate_limit_store": rate_limit_store(),
        "server_processes": server_processes(),
        "warnings": cache_warnings(),
    }
    if broker == "ok":
        body["queue_length"] = _queue_length()
    if db:
        body["pending_jobs"] = _pending_jobs(now)
        body["sweeps"] = _sweeps(now)
        stale = sorted(name for name, s in body["sweeps"].items() if s["stale"])
        body["stale_sweeps"] = stale
        if stale or body["pending_jobs"]["refunds_overdue"]:
            body["status"] = "degraded"
    if not db or broker == "down":
        body["status"] = "down"
    return JsonResponse(body, status=503 if body["status"] == "down" else 200)


@never_cache
def readyz(request):
    db = _database_ok()
    migrations = db and _migrations_applied()
    broker = _broker_status()
    ready = db and migrations and broker != "down"
    body = {
        "ready": ready,
        "database": "ok" if db else "down",
        "migrations": "ok" if migrations else ("pending" if db else "unknown"),
        "broker": broker,
    }
    return JsonResponse(body, status=200 if ready else 503)
