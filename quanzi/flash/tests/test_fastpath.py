"""The gate's fast path (``POST /flash-sales/{id}/orders`` answered in front of Django)
answers every case as the API does: same status, same body, same headers. What it cannot
answer exactly is handed to Django, and then the answer is Django's own.

Every test runs twice: with the WSGI fast path in front of Django (``wsgi``), and with
the async front (``front``: ``quanzi.core.front``, the ASGI application ``quanzi front``
serves) whose upstream is the same Django."""

from __future__ import annotations

import asyncio
import json
from http.client import responses

import pytest
from django.db import connections

from quanzi.core import fastpaths
from quanzi.core.front import Front, environ_of
from quanzi.core.testing import CountingDjango, post_environ, wsgi_call
from quanzi.flash import writer
from quanzi.flash.models import FlashItem, FlashOrder
from quanzi.flash.tests.conftest import django_cache_in_redis, redis_up

pytestmark = pytest.mark.django_db


class _DjangoUpstream:
    """The front's upstream in these tests: the same Django, called in-process."""

    def __init__(self, django: CountingDjango):
        self.django = django

    async def forward(self, scope, body):
        answer = wsgi_call(self.django, environ_of(scope, body))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
        return answer.status, headers, answer.body


class _FrontAsWsgi:
    """The async front driven like a WSGI application: the environ becomes the ASGI
    request uvicorn would give it, and its answer the WSGI one (header names as sent)."""

    def __init__(self, django: CountingDjango):
        # The database work the front gives its threads runs inline here, on the test's
        # connection (DJANGO_ALLOW_ASYNC_UNSAFE is set by the fixture).
        self.front = Front(upstream=_DjangoUpstream(django), run_sync=_inline)

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = [
            (key[5:].replace("_", "-").lower().encode("latin-1"), value.encode("latin-1"))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-").lower().encode(), environ[key].encode()))
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": environ["REQUEST_METHOD"],
            "scheme": environ.get("wsgi.url_scheme", "http"),
            "path": environ["PATH_INFO"],
            "raw_path": environ["PATH_INFO"].encode("latin-1"),
            "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
            "root_path": environ.get("SCRIPT_NAME", ""),
            "headers": headers,
            "client": (environ.get("REMOTE_ADDR", "127.0.0.1"), 50000),
            "server": (environ.get("SERVER_NAME", "testserver"), int(environ["SERVER_PORT"])),
        }
        sent = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        # In an async context Django opens a connection of its own: the request uses
        # the test's, whose transaction holds the data.
        test_connection = connections["default"]

        async def serve():
            connections["default"] = test_connection
            await self.front(scope, receive, send)

        asyncio.run(serve())
        status = sent[0]["status"]
        start_response(
            f"{status} {responses.get(status, 'Unknown Status Code')}",
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in sent[0]["headers"]],
        )
        return [b"".join(m.get("body", b"") for m in sent[1:])]


def _inline(fn, *args, **kwargs):
    return fn(*args, **kwargs)


@pytest.fixture(params=["wsgi", "front"])
def paths(request, settings, monkeypatch):
    """(Django alone, the fast path in front of it); tokens are cached as in production
    (for the front, in Redis, where it reads them)."""
    from quanzi.risk import recording

    settings.AUTH_TOKEN_CACHE_SECONDS = 30
    # What risk's recorder remembers asking in this process outlives a test's rollback.
    monkeypatch.setattr(recording, "_asked", {})
    django = CountingDjango()
    if request.param == "wsgi":
        yield django, fastpaths.wrap(django)
        return
    if not redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_cache_in_redis(settings, "front"):
        yield django, _FrontAsWsgi(django)


@pytest.fixture
def buyer(make_buyer):
    def make(*, warm=True):
        b = make_buyer()
        if warm:  # a page seen before the start: the token is in the token cache
            assert b.api.get("/me").status_code == 200
        return b

    return make


def _path(sale_id):
    return f"/api/v1/flash-sales/{sale_id}/orders"


def _body(sale, b, **extra):
    return {"sku_id": sale["items"][0]["sku_id"], "qty": 1, "address_id": b.address_id, **extra}


def _both(paths, sale_id, a, b, body_a, body_b, headers=None):
    """The same request by buyer ``a`` to Django and by ``b`` to the fast path."""
    django, fast = paths
    d = wsgi_call(django, post_environ(_path(sale_id), body_a, token=a.api.token, headers=headers))
    before = django.calls
    f = wsgi_call(fast, post_environ(_path(sale_id), body_b, token=b.api.token, headers=headers))
    assert django.calls == before, "the fast path handed the request to Django"
    return d, f


def test_a_queued_buy_is_answered_as_the_api_does(redis_queue_no_writer, paths, make_sale, buyer):
    sale = make_sale(allotment=10, limit=1)
    a, b = buyer(), buyer()
    headers = {"X-Request-ID": "req-flash-1", "Accept-Language": "en"}
    d, f = _both(paths, sale["id"], a, b, _body(sale, a), _body(sale, b), headers)
    assert d.status == f.status == 202
    assert d.reason == f.reason
    assert d.json()["state"] == f.json()["state"] == "queued"
    assert set(d.json()) == set(f.json()) == {"ticket", "state"}
    assert d.headers_but_request_id() == f.headers_but_request_id()
    assert d.headers["X-Request-ID"] == f.headers["X-Request-ID"] == "req-flash-1"
    assert f.headers["Content-Language"] == "en"
    # Both tickets are real: the writer writes both orders, each to its buyer.
    item = FlashItem.objects.get(sale_id=sale["id"])
    assert writer.write_batch(item_id=item.pk) == 2
    written = dict(FlashOrder.objects.filter(item=item).values_list("ticket", "user_id"))
    assert written == {d.json()["ticket"]: a.pk, f.json()["ticket"]: b.pk}


def _limit(make_sale, buyer, paths):
    sale = make_sale(allotment=10, limit=1)
    a, b = buyer(), buyer()
    for x in (a, b):
        assert x.api.post(f"/flash-sales/{sale['id']}/orders", _body(sale, x)).status_code == 202
    return sale, a, b, {}, {}


def _qty_over_limit(make_sale, buyer, paths):
    sale = make_sale(allotment=10, limit=1)
    return sale, buyer(), buyer(), {"qty": 2}, {"qty": 2}


def _sold_out(make_sale, buyer, paths):
    sale = make_sale(allotment=1, limit=1)
    first = buyer()
    assert (
        first.api.post(f"/flash-sales/{sale['id']}/orders", _body(sale, first)).status_code == 202
    )
    return sale, buyer(), buyer(), {}, {}


def _not_started(make_sale, buyer, paths):
    return make_sale(allotment=5, starts_in=3600), buyer(), buyer(), {}, {}


def _ended(make_sale, buyer, paths):
    from quanzi.flash.services import sale_close

    sale = make_sale(allotment=5)
    sale_close(sale_id=sale["id"])
    return sale, buyer(), buyer(), {}, {}


def _no_sale(make_sale, buyer, paths):
    sale = make_sale(allotment=5)
    return {**sale, "id": sale["id"] + 1000}, buyer(), buyer(), {}, {}


def _sku_not_in_sale(make_sale, buyer, paths):
    sale = make_sale(allotment=5)
    other = sale["items"][0]["sku_id"] + 1000
    return sale, buyer(), buyer(), {"sku_id": other}, {"sku_id": other}


def _no_address(make_sale, buyer, paths):
    sale = make_sale(allotment=5)
    return sale, buyer(), buyer(), {"address_id": None}, {"address_id": None}


def _unknown_field_and_note(make_sale, buyer, paths):
    sale = make_sale(allotment=1)
    sale_body = {"note": "尽快发货", "coupon": 3}
    first = buyer()
    assert (
        first.api.post(f"/flash-sales/{sale['id']}/orders", _body(sale, first)).status_code == 202
    )
    return sale, buyer(), buyer(), sale_body, sale_body


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        (_limit, 409, "limit_exceeded"),
        (_qty_over_limit, 409, "limit_exceeded"),
        (_sold_out, 409, "out_of_stock"),
        (_not_started, 409, "flash_not_started"),
        (_ended, 409, "flash_ended"),
        (_no_sale, 404, "flash_sale_not_found"),
        (_sku_not_in_sale, 422, "sku_not_in_sale"),
        (_no_address, 422, "address_required"),
        (_unknown_field_and_note, 409, "out_of_stock"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)).strip("_"),
)
def test_each_refusal_is_the_apis(
    redis_queue_no_writer, paths, make_sale, buyer, case, status, code
):
    sale, a, b, extra_a, extra_b = case(make_sale, buyer, paths)
    d, f = _both(paths, sale["id"], a, b, _body(sale, a, **extra_a), _body(sale, b, **extra_b))
    assert (d.status, d.json()["code"]) == (status, code)
    assert f.status == d.status
    assert f.reason == d.reason
    assert f.json() == d.json()
    assert f.body == d.body
    assert f.headers_but_request_id() == d.headers_but_request_id()


def _handed_over(paths, environ_a, environ_b):
    """The fast path hands the request to Django: its answer is Django's."""
    django, fast = paths
    d = wsgi_call(django, environ_a)
    before = django.calls
    f = wsgi_call(fast, environ_b)
    assert django.calls == before + 1, "the fast path answered it"
    return d, f


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"token": "not-a-token"}, 401, "unauthorized"),
        ({"body": {"qty": 0}}, 422, "validation_error"),
        ({"body": {"qty": "1"}}, 422, "validation_error"),
        ({"body": {"qty": True}}, 422, "validation_error"),
        ({"body": {"sku_id": 1.0}}, 422, "validation_error"),
        ({"body": {"note": "x" * 201}}, 422, "validation_error"),
        ({"body": {"note": "a\u0000b"}}, 422, "invalid_text"),
        ({"body": {"pay": {"gateway": "sandbox"}}}, 422, "pay_after_queue"),
        ({"raw": "[1, 2]"}, 422, "body_not_object"),
        ({"raw": "{not json"}, 400, "bad_request"),
        ({"content_type": "text/plain"}, None, None),
    ],
    ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else str(v),
)
def test_what_it_cannot_answer_exactly_goes_to_the_api(
    redis_queue_no_writer, paths, make_sale, buyer, change, status, code
):
    sale = make_sale(allotment=10, limit=0)
    a, b = buyer(), buyer()

    def environ(x):
        token = change.get("token", x.api.token)
        body = {**_body(sale, x), **change.get("body", {})}
        return post_environ(
            _path(sale["id"]),
            body,
            token=token,
            raw=change.get("raw"),
            content_type=change.get("content_type"),
        )

    d, f = _handed_over(paths, environ(a), environ(b))
    assert f.status == d.status
    if status is not None:
        assert (d.status, d.json()["code"]) == (status, code)
        assert f.json() == d.json()
    assert f.headers_but_request_id() == d.headers_but_request_id()


def test_a_token_not_in_the_cache_goes_to_the_api_which_caches_it(
    redis_queue_no_writer, paths, make_sale, buyer
):
    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    cold = buyer(warm=False)
    first = wsgi_call(
        fast, post_environ(_path(sale["id"]), _body(sale, cold), token=cold.api.token)
    )
    assert (first.status, django.calls) == (202, 1)
    second = wsgi_call(
        fast, post_environ(_path(sale["id"]), _body(sale, cold), token=cold.api.token)
    )
    assert (second.status, django.calls) == (202, 1)  # now served by the fast path


def test_a_keyed_buy_is_the_apis_and_replays(redis_queue_no_writer, paths, make_sale, buyer):
    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    b = buyer()
    headers = {"Idempotency-Key": "flash-key-1"}
    answers = [
        wsgi_call(
            fast,
            post_environ(_path(sale["id"]), _body(sale, b), token=b.api.token, headers=headers),
        )
        for _ in range(2)
    ]
    assert django.calls == 2
    assert [a.status for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()


def test_a_query_string_or_a_cookie_goes_to_the_api(redis_queue_no_writer, paths, make_sale, buyer):
    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    b = buyer()
    env = post_environ(_path(sale["id"]) + "?lang=en", _body(sale, b), token=b.api.token)
    assert wsgi_call(fast, env).status == 202
    env = post_environ(_path(sale["id"]), _body(sale, b), token=b.api.token)
    env["HTTP_COOKIE"] = "django_language=en"
    assert wsgi_call(fast, env).status == 202
    assert django.calls == 2


def test_without_the_queue_the_api_answers(redis_gate, paths, make_sale, buyer):
    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    b = buyer()
    answer = wsgi_call(fast, post_environ(_path(sale["id"]), _body(sale, b), token=b.api.token))
    assert (answer.status, django.calls) == (201, 1)
    assert set(answer.json()) >= {"order_id", "status", "payable"}


def test_the_wsgi_application_serves_the_fast_path():
    from quanzi.wsgi import application

    assert application.django is not None
    assert ("POST", r"^/api/v1/flash-sales/([1-9][0-9]{0,17})/orders$") in fastpaths.registered()


def test_the_fast_path_records_the_requests_device_as_the_middleware_does(
    redis_queue_no_writer, paths, make_sale, buyer
):
    from quanzi.risk.models import RiskSignal

    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    b = buyer()
    env = post_environ(
        _path(sale["id"]), _body(sale, b), token=b.api.token, headers={"X-Device-Id": "dev-42"}
    )
    assert wsgi_call(fast, env).status == 202
    assert django.calls == 0
    seen = RiskSignal.objects.filter(user_id=b.pk, kind=RiskSignal.DEVICE, value="dev-42")
    assert seen.count() == 1


def test_a_signed_out_or_deactivated_buyer_is_refused_by_the_api(
    redis_queue_no_writer, paths, make_sale, buyer
):
    """The fast path knows a buyer by the token cache: signing out and deactivation drop
    the entry (the user's and, for the front, the id's), so the API answers 401."""
    from quanzi.accounts.models import User
    from quanzi.accounts.services import token_revoke

    django, fast = paths
    sale = make_sale(allotment=10, limit=0)
    gone, off = buyer(), buyer()
    token_revoke(raw=gone.api.token)
    user = User.objects.get(pk=off.pk)
    user.is_active = False
    user.save()
    for b in (gone, off):
        before = django.calls
        answer = wsgi_call(fast, post_environ(_path(sale["id"]), _body(sale, b), token=b.api.token))
        assert (answer.status, answer.json()["code"]) == (401, "unauthorized")
        assert django.calls == before + 1
