"""Liveness and readiness for load balancers and monitoring."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from quanzi import __version__


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - reported as down
        return False


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "embedded"
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        return "ok"
    except Exception:  # noqa: BLE001 - reported as down
        return "down"


def _pending_jobs() -> dict[str, int]:
    from quanzi.orders.models import Order, Refund

    now = timezone.now()
    return {
        "unpaid_expired": Order.objects.filter(
            status="pending_payment", expires_at__lte=now
        ).count(),
        "refunds_open": Refund.objects.filter(status__in=["approved", "processing"]).count(),
    }


def healthz(request):
    db = _database_ok()
    broker = _broker_status()
    body = {
        "status": "ok" if db and broker != "down" else "degraded",
        "database": "ok" if db else "down",
        "broker": broker,
        "version": __version__,
        "pending_jobs": _pending_jobs() if db else {},
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def readyz(request):
    ready = _database_ok()
    return JsonResponse({"ready": ready}, status=200 if ready else 503)
