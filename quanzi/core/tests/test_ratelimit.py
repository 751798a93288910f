"""Rate limits: a fixed window, 429 ``rate_limited`` past the limit, counted in the shared
cache (Redis) or, without one, in the database."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from quanzi.core import ratelimit
from quanzi.core.errors import RateLimited
from quanzi.core.platform_settings import settings_update
from quanzi.core.ratelimit import client_ip, rate_limit

# Its own Redis database: the test empties it (cache.clear() is FLUSHDB), and the sweep-lock
# tests of test_celery.py hold locks in database 6 at the same time on another xdist worker.
REDIS_TEST_URL = "redis://127.0.0.1:6379/7"


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=0.5).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    """One fixed instant: no test can straddle two windows by bad luck."""
    clock = {"now": 1_700_000_000.0}
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock["now"])
    return clock


@pytest.fixture
def cache_store(settings):
    settings.RATE_LIMIT_STORE = "cache"


@pytest.fixture
def database_store(settings, db):
    settings.RATE_LIMIT_STORE = "database"


@pytest.fixture(params=["cache_store", "database_store"])
def store(request):
    return request.getfixturevalue(request.param)


def test_the_attempt_past_the_limit_is_refused_and_other_keys_are_not_affected(store):
    assert [rate_limit("a", 3, 60) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RateLimited) as refused:
        rate_limit("a", 3, 60)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert 1 <= refused.value.detail["retry_after"] <= 61
    assert rate_limit("b", 3, 60) == 1


def test_a_new_window_starts_counting_again(_frozen_clock, store):
    clock = _frozen_clock
    rate_limit("w", 1, 10)
    with pytest.raises(RateLimited):
        rate_limit("w", 1, 10)
    clock["now"] += 10
    assert rate_limit("w", 1, 10) == 1


def _hammer(threads: int, calls: int) -> list[int]:
    barrier = threading.Barrier(threads)
    seen: list[int] = []
    lock = threading.Lock()

    def run():
        barrier.wait()
        for _ in range(calls):
            count = rate_limit("hammer", 10_000, 60)
            with lock:
                seen.append(count)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return seen


def test_concurrent_attempts_are_each_counted_once_in_memory(cache_store):
    seen = _hammer(8, 50)
    assert sorted(seen) == list(range(1, 401))


@pytest.mark.skipif(not _redis_up(), reason=f"Redis is not reachable at {REDIS_TEST_URL}")
def test_concurrent_attempts_are_each_counted_once_on_redis(cache_store):
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",  # as in production
            "LOCATION": REDIS_TEST_URL,
        }
    }
    with override_settings(CACHES=caches):
        cache.clear()
        try:
            seen = _hammer(8, 50)
            # Another process (another app server) shares the same counter.
            assert rate_limit("hammer", 10_000, 60) == 401
        finally:
            cache.clear()
    assert sorted(seen) == list(range(1, 401))


def test_client_ip_trusts_only_the_entries_its_proxies_added():
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    with override_settings(PROXY_COUNT=0):
        assert client_ip(request) == "10.0.0.2"
    with override_settings(PROXY_COUNT=1):
        assert client_ip(request) == "203.0.113.9"  # the forged 6.6.6.6 is ignored
    with override_settings(PROXY_COUNT=1):
        assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.3")) == "10.0.0.3"


def _login(anon, phone, password="wrong-password", ip="198.51.100.7"):
    return anon.client.post(
        "/api/v1/auth/login",
        data={"phone": phone, "password": password},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=ip,
    )


@override_settings(PROXY_COUNT=1)
def test_login_is_limited_per_phone_with_429(anon, make_user):
    settings_update(patch={"rate_limits": {"login_per_phone": {"limit": 3, "window_seconds": 600}}})
    user = make_user()
    for _ in range(3):
        assert _login(anon, user.phone).status_code == 401
    refused = _login(anon, user.phone, password="secret123")  # even the right password
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["detail"]["retry_after"] >= 1
    # Another account from the same address still logs in.
    other = make_user()
    assert _login(anon, other.phone, password="secret123").status_code == 200


@override_settings(PROXY_COUNT=1)
def test_login_is_limited_per_client_address(anon, make_user):
    settings_update(patch={"rate_limits": {"login_per_ip": {"limit": 3, "window_seconds": 60}}})
    users = [make_user() for _ in range(4)]
    answers = [_login(anon, u.phone, "secret123", ip="198.51.100.8").status_code for u in users]
    assert answers == [200, 200, 200, 429]
    # A customer behind another address is not affected.
    assert _login(anon, users[3].phone, "secret123", ip="198.51.100.9").status_code == 200


@override_settings(PROXY_COUNT=1)
def test_register_is_limited_per_address_and_per_phone(anon):
    settings_update(patch={"rate_limits": {"register_per_ip": {"limit": 2, "window_seconds": 60}}})

    def register(phone, ip):
        return anon.client.post(
            "/api/v1/auth/register",
            data={"phone": phone, "password": "secret123"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=ip,
        )

    assert register("13700000001", "192.0.2.1").status_code == 201
    assert register("13700000002", "192.0.2.1").status_code == 201
    third = register("13700000003", "192.0.2.1")
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"
    # One phone tried from many addresses: limited per phone (5 an hour by default).
    answers = [register("13700000009", f"192.0.2.{10 + i}").status_code for i in range(6)]
    assert answers[0] == 201 and answers[1:5] == [409] * 4 and answers[5] == 429


def test_limits_can_be_turned_off_and_are_validated(operator, anon, make_user):
    settings_update(patch={"rate_limits": {"login_per_phone": {"limit": 1, "window_seconds": 60}}})
    user = make_user()
    assert [_login(anon, user.phone).status_code for _ in range(2)] == [401, 429]
    assert (
        operator.api.put("/admin/settings", {"rate_limits": {"enabled": False}}).status_code == 200
    )
    assert [_login(anon, user.phone).status_code for _ in range(2)] == [401, 401]
    bad = operator.api.put(
        "/admin/settings", {"rate_limits": {"login_per_phone": {"limit": 0, "window_seconds": 60}}}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_setting"
    defaults = operator.api.get("/admin/settings").json()["rate_limits"]
    assert defaults["coupon_claim_per_user"] == {"limit": 20, "window_seconds": 60}
    assert defaults["bargain_help_per_user"] == {"limit": 20, "window_seconds": 60}


def test_limits_fail_open_when_the_cache_is_down(cache_store):
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",  # as in production
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=caches):
        assert [rate_limit("down", 1, 60) for _ in range(3)] == [0, 0, 0]


# --- without a shared cache: the database ----------------------------------------------


def test_without_a_shared_cache_the_counters_are_kept_in_the_database(db, settings):
    from quanzi.core.models import RateLimitCounter
    from quanzi.core.ratelimit import rate_limit_store, shared_cache

    settings.RATE_LIMIT_STORE = "auto"
    assert not shared_cache()  # the tests' per-process memory cache
    assert rate_limit_store() == "database"
    assert [rate_limit("db", 2, 60) for _ in range(2)] == [1, 2]
    cache.clear()  # nothing of it was in the process's memory
    with pytest.raises(RateLimited):
        rate_limit("db", 2, 60)
    assert RateLimitCounter.objects.get().count == 3


def test_with_redis_configured_the_cache_counts(settings):
    from quanzi.core.ratelimit import rate_limit_store

    settings.RATE_LIMIT_STORE = "auto"
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_TEST_URL}
    }
    assert rate_limit_store() == "cache"


def test_ended_windows_are_deleted_when_a_new_one_opens(_frozen_clock, database_store):
    from quanzi.core.models import RateLimitCounter

    rate_limit("old", 5, 10)
    rate_limit("other", 5, 10)
    assert RateLimitCounter.objects.count() == 2
    _frozen_clock["now"] += 60
    rate_limit("new", 5, 10)
    assert RateLimitCounter.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_are_each_counted_once_in_the_database(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL")
    settings.RATE_LIMIT_STORE = "database"
    seen = _hammer_in_threads_closing_connections(4, 25)
    assert sorted(seen) == list(range(1, 101))


def _hammer_in_threads_closing_connections(threads: int, calls: int) -> list[int]:
    from django.db import connection

    barrier = threading.Barrier(threads)
    seen: list[int] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            for _ in range(calls):
                count = rate_limit("hammer-db", 10_000, 60)
                with lock:
                    seen.append(count)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return seen
