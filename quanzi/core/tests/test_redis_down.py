"""Redis gone: the shared cache is an accelerator, never a dependency. With the cache
pointed at a closed port (or vanishing in the middle of a request), sign-up, sign-in,
bearer tokens, rate-limited actions, checkout, payment and settings changes all still
work: rate limits and caches fail open, and nothing that was written is lost."""

from __future__ import annotations

import socket

import pytest
from django.core.cache.backends.locmem import LocMemCache

from conftest import Api
from quanzi.orders.models import Order
from quanzi.payments.models import Payment


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the socket closes


@pytest.fixture
def redis_gone(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.AUTH_TOKEN_CACHE_SECONDS = 30  # the token cache is in use, as with Redis
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises: it is down
        cache.get("anything")


def _coupon_template():
    from quanzi.marketing.services import coupon_template_create

    return coupon_template_create(
        data={
            "name": "满30减5",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 3000,
            "scope": "all",
            "valid_days": 5,
            "total": 100,
            "per_user_limit": 5,
        }
    )


def test_a_customer_signs_up_buys_and_pays_with_redis_gone(redis_gone, sku, operator):
    template = _coupon_template()
    anon = Api()

    registered = anon.post("/auth/register", {"phone": "13911112222", "password": "secret123"})
    assert registered.status_code == 201, registered.content
    login = anon.post("/auth/login", {"phone": "13911112222", "password": "secret123"})
    assert login.status_code == 200, login.content
    me = Api(login.json()["token"])
    assert me.get("/me").status_code == 200
    assert me.get("/me").json()["phone"] == "13911112222"  # twice: the token cache is down

    claimed = me.post(f"/coupon-templates/{template.pk}/claim")
    assert claimed.status_code == 201, claimed.content
    address = me.post(
        "/me/addresses",
        {
            "name": "张三",
            "phone": "13911112222",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    ).json()
    placed = me.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 2}], "address_id": address["id"]},
    )
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    payment = me.post(f"/orders/{order_id}/pay", {"gateway": "sandbox"})
    assert payment.status_code == 200, payment.content
    done = me.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
    assert done.status_code == 200, done.content

    # Nothing lost: the order, its payment and its stock are in the database.
    order = Order.objects.get(pk=order_id)
    assert order.status == "to_ship"
    assert Payment.objects.get(order=order).status == "succeeded"
    sku.refresh_from_db()
    assert sku.stock == 98


def test_settings_change_and_are_read_back_with_redis_gone(redis_gone, operator):
    written = operator.api.put("/admin/settings", {"payment_timeout_seconds": 1200})
    assert written.status_code == 200, written.content

    read = operator.api.get("/admin/settings")

    assert read.status_code == 200
    assert read.json()["payment_timeout_seconds"] == 1200


class VanishingCache(LocMemCache):
    """A cache that answers until it is told to vanish, then raises like a lost server."""

    calls_left: int | None = None

    def _maybe_vanish(self):
        if VanishingCache.calls_left is not None:
            if VanishingCache.calls_left <= 0:
                raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            VanishingCache.calls_left -= 1

    def add(self, *args, **kwargs):
        self._maybe_vanish()
        return super().add(*args, **kwargs)

    def get(self, *args, **kwargs):
        self._maybe_vanish()
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        self._maybe_vanish()
        return super().set(*args, **kwargs)

    def incr(self, *args, **kwargs):
        self._maybe_vanish()
        return super().incr(*args, **kwargs)

    def delete_many(self, *args, **kwargs):
        self._maybe_vanish()
        return super().delete_many(*args, **kwargs)


@pytest.fixture
def vanishing(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "quanzi.core.tests.test_redis_down.VanishingCache",
            "LOCATION": "vanishing",
        }
    }
    settings.AUTH_TOKEN_CACHE_SECONDS = 30
    VanishingCache.calls_left = None
    yield VanishingCache
    VanishingCache.calls_left = None


@pytest.mark.parametrize("calls_before_it_goes", [0, 1, 2, 3])
def test_redis_vanishing_in_the_middle_of_a_request_loses_nothing(
    vanishing, calls_before_it_goes, customer, make_user
):
    """The coupon claim counts two rate limits (IP, user) and reads the signed-in user
    from the cache: Redis goes away before any of those calls, or between them."""
    template = _coupon_template()
    assert customer.api.get("/me").status_code == 200  # the token is in the cache now

    vanishing.calls_left = calls_before_it_goes
    claimed = customer.api.post(f"/coupon-templates/{template.pk}/claim")

    assert claimed.status_code == 201, claimed.content
    assert vanishing.calls_left == 0  # it did vanish during the request
    from quanzi.marketing.models import Coupon

    assert Coupon.objects.filter(user=customer, template=template).count() == 1
    # And the next request, with no cache at all, sees what the first one wrote.
    mine = customer.api.get("/me/coupons")
    assert mine.status_code == 200
    assert len(mine.json()["items"]) == 1
