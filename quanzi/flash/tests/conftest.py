"""Fixtures for flash sales: a sale made through the API, buyers with an address, and
the Redis gate pointed at a key prefix of the test's own (or turned off)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.flash import gate

REDIS_URL = "redis://127.0.0.1:6379/14"


@contextlib.contextmanager
def django_cache_in_redis(settings, name: str) -> Iterator[str]:
    """Django's cache in Redis under a prefix of the test's own (where Django caches a
    token it has read, and where the front looks for it); its keys deleted afterwards.
    Yields the prefix."""
    import redis

    prefix = f"qztest-{name}-{uuid.uuid4().hex[:10]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - no Redis here
        return False


@pytest.fixture
def no_gate():
    """The embedded mode: no Redis, the buckets alone decide."""
    gate.configure(url=None)
    yield
    gate.reset()


def _gate(queue: bool):
    if not redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    prefix = f"qztest:flash:{uuid.uuid4().hex[:10]}"
    gate.configure(url=REDIS_URL, prefix=prefix, queue=queue)
    yield gate
    client = gate.client()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    gate.reset()


@pytest.fixture
def redis_gate():
    """The gate, each buyer's request writing its own order (``FLASH_QUEUE`` off)."""
    yield from _gate(queue=False)


@pytest.fixture
def redis_queue(settings):
    """The gate in queue mode: ``202`` with a ticket; writers write the orders. The writer
    is woken in-process after the take (tasks run eagerly in tests)."""
    settings.FLASH_WRITER = "task"
    yield from _gate(queue=True)


@pytest.fixture
def redis_queue_no_writer(settings):
    """Queue mode with no writer woken: the test plays the writer (or kills it)."""
    settings.FLASH_WRITER = "follow"
    yield from _gate(queue=True)


@pytest.fixture
def flash_sku(make_product):
    return make_product(price=9900, supply_price=3000, stock=1000, title="秒杀耳机").skus.get()


@pytest.fixture
def make_sale(operator, flash_sku):
    def make(*, allotment=10, limit=1, starts_in=-1, lasts=3600, buckets=8, price=990, sku=None):
        now = timezone.now()
        sku = sku or flash_sku
        body = {
            "title": "整点秒杀",
            "starts_at": (now + timedelta(seconds=starts_in)).isoformat(),
            "ends_at": (now + timedelta(seconds=starts_in + lasts)).isoformat(),
            "per_user_limit": limit,
            "buckets": buckets,
            "items": [{"sku_id": sku.pk, "price": price, "allotment": allotment}],
        }
        response = operator.api.post("/admin/flash-sales", body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def make_buyer(make_user, make_address):
    def make():
        user = make_user()
        user.address_id = make_address(user).pk
        return user

    return make


def buy_body(sale, buyer, qty=1, **extra):
    return {
        "sku_id": sale["items"][0]["sku_id"],
        "qty": qty,
        "address_id": buyer.address_id,
        **extra,
    }


from quanzi.storefront.tests.browser import browser, new_phone  # noqa: E402, F401 - fixtures
