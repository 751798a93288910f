"""The token cache (on with Redis): a request authenticates without a query, and no
change to a token or its user is missed — logout, deactivation, roles, profile."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quanzi.accounts.services import user_roles_set


@pytest.fixture
def token_cache(settings):
    settings.AUTH_TOKEN_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        answer = call()
    return len(ctx.captured_queries), answer


def test_a_known_token_costs_no_query(token_cache, customer):
    first, answer = _queries(lambda: customer.api.get("/me"))
    assert answer.status_code == 200
    again, answer = _queries(lambda: customer.api.get("/me"))
    assert answer.status_code == 200 and answer.json()["id"] == customer.pk
    assert again == first - 1


def test_logout_is_seen_at_once(token_cache, customer):
    assert customer.api.get("/me").status_code == 200  # now cached
    assert customer.api.post("/auth/logout").status_code == 204
    assert customer.api.get("/me").status_code == 401


def test_deactivating_the_user_is_seen_at_once(token_cache, customer):
    assert customer.api.get("/me").status_code == 200
    customer.is_active = False
    customer.save()
    assert customer.api.get("/me").status_code == 401


def test_a_role_taken_away_is_seen_at_once(token_cache, operator):
    assert operator.api.get("/admin/orders").status_code == 200
    user_roles_set(user=operator, roles=())
    assert operator.api.get("/admin/orders").status_code == 403


def test_a_profile_change_is_seen_at_once(token_cache, customer):
    assert customer.api.get("/me").json()["nickname"] == customer.nickname
    customer.nickname = "新名字"
    customer.save()
    assert customer.api.get("/me").json()["nickname"] == "新名字"


def test_a_broken_cache_falls_back_to_the_database(token_cache, customer, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    assert customer.api.get("/me").status_code == 200


def test_without_the_cache_every_request_reads_the_token(settings, customer):
    settings.AUTH_TOKEN_CACHE_SECONDS = 0
    first, _ = _queries(lambda: customer.api.get("/me"))
    again, _ = _queries(lambda: customer.api.get("/me"))
    assert again == first
