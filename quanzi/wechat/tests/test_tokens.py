"""The access token: cached, renewed once when WeChat calls it invalid or expired, and
refreshed by one process at a time."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.wechat import client
from quanzi.wechat.config import mini_app
from quanzi.wechat.models import AppToken
from quanzi.wechat.tests.conftest import MINI_APPID

pytestmark = pytest.mark.django_db


def _send(wx, app):
    return client.call(
        app,
        "POST",
        "/cgi-bin/message/subscribe/send",
        json={"touser": "o-1", "template_id": "T1", "data": {}},
    )


def test_the_token_is_asked_once_and_reused(wx):
    app = mini_app()
    first = client.access_token(app)
    assert client.access_token(app) == first
    _send(wx, app)
    _send(wx, app)
    assert wx.state.calls["/cgi-bin/token"] == 1
    row = AppToken.objects.get(app_id=MINI_APPID, kind=AppToken.ACCESS_TOKEN)
    assert row.value == first and row.refreshes == 1


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_an_invalid_or_expired_token_is_renewed_once_and_the_call_repeated(wx, errcode):
    app = mini_app()
    old = client.access_token(app)
    if errcode == 42001:
        wx.expire_tokens()
    else:
        wx.state.tokens.clear()  # WeChat forgot it (another system took a new one)
    answer = _send(wx, app)
    assert answer["errcode"] == 0 and len(wx.state.sent) == 1
    assert wx.state.calls["/cgi-bin/token"] == 2
    assert client.access_token(app) != old


def test_a_token_refused_twice_is_an_error_not_a_loop(wx):
    app = mini_app()
    client.access_token(app)
    wx.fail("/cgi-bin/message/subscribe/send", 42001, 42001)
    with pytest.raises(client.WechatError) as caught:
        _send(wx, app)
    assert caught.value.errcode == 42001
    assert wx.state.calls["/cgi-bin/message/subscribe/send"] == 2  # one retry only
    assert wx.state.calls["/cgi-bin/token"] == 2


def test_rate_limit_and_timeout_are_errors_with_codes(wx):
    app = mini_app()
    wx.fail("/cgi-bin/token", 45009)
    with pytest.raises(client.WechatError) as caught:
        client.access_token(app)
    assert caught.value.code == "wechat_rate_limited" and caught.value.status == 429
    wx.fail("/cgi-bin/token", "timeout")
    with pytest.raises(client.WechatUnavailable):
        client.access_token(app)
    assert client.access_token(app)  # WeChat is back: it works


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_processes_refresh_the_token_once(wx):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    wx.state.delay = 0.2  # WeChat is slow: everyone arrives while the first one asks
    app = mini_app()
    tokens = race([lambda: client.access_token(app) for _ in range(8)])
    assert len(set(tokens)) == 1 and tokens[0].startswith("tok-"), tokens
    assert wx.state.calls["/cgi-bin/token"] == 1


REDIS_TEST_URL = "redis://127.0.0.1:6379/9"


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=0.5).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_the_refresh_is_held_by_a_redis_lock(wx, settings):
    if connection.vendor != "postgresql" or not _redis_up():
        pytest.skip("needs PostgreSQL and Redis")
    settings.REDIS_URL = REDIS_TEST_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": "quanzi-wechat-test",
        }
    }
    from django.core.cache import cache

    cache.delete_pattern("quanzi:wechat:*")  # only this test's keys: the server is shared
    wx.state.delay = 0.2
    app = mini_app()
    try:
        tokens = race([lambda: client.access_token(app) for _ in range(8)])
        assert len(set(tokens)) == 1 and tokens[0].startswith("tok-"), tokens
        assert wx.state.calls["/cgi-bin/token"] == 1
        assert cache.get(f"quanzi:wechat:access_token:{MINI_APPID}")[0] == tokens[0]
    finally:
        cache.delete_pattern("quanzi:wechat:*")
