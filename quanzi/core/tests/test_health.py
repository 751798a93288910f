"""``/healthz`` for monitoring and ``/readyz`` for the load balancer."""

from __future__ import annotations

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from quanzi import __version__
from quanzi.core import views
from quanzi.core.jobs import run_all
from quanzi.orders.models import Order


def test_healthz_reports_database_broker_version_and_overdue_work(
    anon, customer, sku, make_address
):
    address = make_address(customer)
    order = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    Order.objects.filter(pk=order["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    before = anon.client.get("/healthz")
    body = before.json()
    assert before.status_code == 200 and before["Cache-Control"].startswith("max-age=0")
    assert body["database"] == "ok" and body["broker"] == "embedded"
    assert body["version"] == __version__
    assert body["pending_jobs"]["unpaid_expired"] == 1
    # No sweep has ever run: the worker is not doing its job.
    assert body["status"] == "degraded"
    assert "orders.expire_unpaid" in body["stale_sweeps"]
    assert body["sweeps"]["orders.expire_unpaid"]["last_run_at"] is None

    run_all()
    after = anon.client.get("/healthz").json()
    assert after["status"] == "ok" and after["stale_sweeps"] == []
    assert after["pending_jobs"]["unpaid_expired"] == 0
    assert after["sweeps"]["orders.expire_unpaid"]["last_run_at"] is not None


def test_healthz_is_503_when_the_broker_is_unreachable(anon):
    run_all()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        answer = anon.client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["broker"] == "down" and answer.json()["status"] == "down"


def test_readyz_is_200_when_the_process_can_serve(anon):
    answer = anon.client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "database": "ok",
        "migrations": "ok",
        "broker": "embedded",
    }


def test_readyz_is_503_without_the_database_or_with_migrations_pending(anon, monkeypatch):
    monkeypatch.setattr(views, "_database_ok", lambda: False)
    down = anon.client.get("/readyz")
    assert down.status_code == 503 and down.json()["database"] == "down"
    monkeypatch.undo()

    monkeypatch.setattr(views, "_migrations_ok", False)
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)]
    )
    pending = anon.client.get("/readyz")
    assert pending.status_code == 503 and pending.json()["migrations"] == "pending"


def test_healthz_warns_when_several_processes_serve_without_a_shared_cache(anon, monkeypatch):
    monkeypatch.setenv("QUANZI_SERVE_WORKERS", "4")
    body = anon.client.get("/healthz").json()
    assert body["shared_cache"] is False
    assert body["server_processes"] == 4
    assert body["rate_limit_store"] == "database"
    assert len(body["warnings"]) == 1 and "no shared cache" in body["warnings"][0]
    assert "counted in the database" in body["warnings"][0]


def test_healthz_has_no_cache_warning_for_one_process(anon, monkeypatch):
    monkeypatch.delenv("QUANZI_SERVE_WORKERS", raising=False)
    body = anon.client.get("/healthz").json()
    assert body["server_processes"] == 1 and body["warnings"] == []


def test_healthz_has_no_cache_warning_with_a_shared_cache(anon, monkeypatch, settings):
    monkeypatch.setenv("QUANZI_SERVE_WORKERS", "4")
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.RATE_LIMIT_STORE = "cache"
    body = anon.client.get("/healthz").json()
    assert body["shared_cache"] is True and body["warnings"] == []
