"""``QUANZI_PRODUCTION=1``: what the settings refuse and what they turn on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.test import override_settings

from quanzi.orders.models import Order

PROBE = """
import json
from django.conf import settings
import django
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SANDBOX_ENABLED": settings.SANDBOX_ENABLED,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "STATICFILES": settings.STORAGES["staticfiles"]["BACKEND"],
    "WHITENOISE_USE_FINDERS": settings.WHITENOISE_USE_FINDERS,
    "CONN_MAX_AGE": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"),
    "DB_OPTIONS": settings.DATABASES["default"].get("OPTIONS", {}),
    "NO_SERVER_CURSORS": settings.DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS"),
    "TASKS_EAGER": settings.TASKS_EAGER,
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "BROKER": settings.CELERY_BROKER_URL,
    "PROXY_COUNT": settings.PROXY_COUNT,
}))
"""


def _settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUANZI_")}
    clean.update(
        {"QUANZI_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "quanzi.settings", **env}
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, timeout=60
    )


PROD = {
    "QUANZI_PRODUCTION": "1",
    "QUANZI_SECRET_KEY": "a-long-random-secret-for-the-test",
    "QUANZI_ALLOWED_HOSTS": "shop.example.com",
    "QUANZI_DATABASE_URL": "postgres://quanzi@db.internal:5432/quanzi",
    "QUANZI_REDIS_URL": "redis://redis.internal:6379/0",
}


def test_production_refuses_to_start_without_a_secret_key_or_allowed_hosts(tmp_path):
    no_key = _settings(tmp_path, **{**PROD, "QUANZI_SECRET_KEY": ""})
    assert no_key.returncode != 0 and "QUANZI_SECRET_KEY is required" in no_key.stderr
    no_hosts = _settings(tmp_path, **{**PROD, "QUANZI_ALLOWED_HOSTS": ""})
    assert no_hosts.returncode != 0 and "QUANZI_ALLOWED_HOSTS is required" in no_hosts.stderr


def test_production_settings_are_safe_even_when_asked_for_debug(tmp_path):
    run = _settings(tmp_path, **PROD, QUANZI_DEBUG="1")
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["DEBUG"] is False
    assert got["SANDBOX_ENABLED"] is False
    assert got["ALLOWED_HOSTS"] == ["shop.example.com"]
    assert got["SESSION_COOKIE_SECURE"] and got["CSRF_COOKIE_SECURE"]
    assert got["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert got["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert got["WHITENOISE_USE_FINDERS"] is False
    assert got["CONN_MAX_AGE"] == 60 and got["CONN_HEALTH_CHECKS"] is True
    assert got["TASKS_EAGER"] is False
    assert got["CACHE"] == "django_redis.cache.RedisCache"
    assert got["BROKER"] == "redis://redis.internal:6379/0"
    assert got["PROXY_COUNT"] == 1

    allowed = _settings(tmp_path, **PROD, QUANZI_ALLOW_SANDBOX="1")
    assert json.loads(allowed.stdout.strip().splitlines()[-1])["SANDBOX_ENABLED"] is True


def test_postgres_binds_on_the_server_and_prepares_nothing_behind_pgbouncer(tmp_path):
    direct = json.loads(_settings(tmp_path, **PROD).stdout)
    assert direct["DB_OPTIONS"] == {"server_side_binding": True}
    assert direct["NO_SERVER_CURSORS"] is False
    pooled = json.loads(_settings(tmp_path, **PROD, QUANZI_DB_PGBOUNCER="1").stdout)
    assert pooled["DB_OPTIONS"] == {"server_side_binding": True, "prepare_threshold": None}
    assert pooled["NO_SERVER_CURSORS"] is True
    quoted = json.loads(_settings(tmp_path, **PROD, QUANZI_DB_SERVER_BINDING="0").stdout)
    assert quoted["DB_OPTIONS"] == {"server_side_binding": False}


def test_embedded_defaults_need_no_configuration(tmp_path):
    run = _settings(tmp_path)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["SANDBOX_ENABLED"] is True and got["TASKS_EAGER"] is True
    assert got["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert got["PROXY_COUNT"] == 0


def test_with_the_sandbox_off_paying_and_completing_answer_gateway_disabled(
    customer, sku, make_address
):
    address = make_address(customer)
    order = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    with override_settings(SANDBOX_ENABLED=False):
        pay = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
        assert pay.status_code == 422 and pay.json()["code"] == "gateway_disabled"
        complete = customer.api.post(f"/payments/sandbox/{payment['payment_id']}/complete")
        assert complete.status_code == 422 and complete.json()["code"] == "gateway_disabled"
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"  # nothing was paid
