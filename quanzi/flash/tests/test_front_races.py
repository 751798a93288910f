"""Real parallel buyers over real HTTP against the async front (``quanzi front``): the
``Front`` under uvicorn in a thread of its own, with its own thread pool for the database
(the production path), handing what it does not answer to a real Django
(``live_server``) on PostgreSQL; the gate in queue mode, the test playing the writer."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import pytest
from django.db import connection, connections

from quanzi.core.front import Front, Upstream
from quanzi.core.testing import race
from quanzi.flash import writer
from quanzi.flash.models import FlashItem, FlashOrder
from quanzi.flash.tests.conftest import buy_body, django_cache_in_redis, redis_up
from quanzi.flash.tests.test_races import _figures
from quanzi.ledger.checks import run_checks

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


@pytest.fixture(autouse=True)
def _postgres_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")
    if not redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")


@pytest.fixture
def token_cache(settings):
    """Django's cache in Redis under a prefix of the test's own: where Django caches a
    token it has read and where the front looks for it."""
    settings.AUTH_TOKEN_CACHE_SECONDS = 300  # longer than the test: warm stays warm
    with django_cache_in_redis(settings, "front-races") as prefix:
        yield prefix


class _CountingUpstream(Upstream):
    """The front's upstream, keeping what it was handed (method, path)."""

    def __init__(self, base: str):
        super().__init__(base)
        self.handed: list[tuple[str, str]] = []

    async def forward(self, scope, body):
        self.handed.append((scope["method"], scope["path"]))
        return await super().forward(scope, body)


class _FrontServer:
    def __init__(self, url: str, upstream: _CountingUpstream):
        self.url = url
        self.upstream = upstream

    def call(self, method: str, path: str, *, token=None, body=None, headers=None):
        """(status, JSON body) of one request to the front."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            with refused:
                return refused.code, json.loads(refused.read())


@pytest.fixture
def front(live_server, token_cache, redis_queue_no_writer):
    """``quanzi front`` on a port of its own: uvicorn serving ``Front`` (default thread
    pool, ``run_sync=None``) with ``live_server`` as its upstream."""
    import uvicorn

    upstream = _CountingUpstream(live_server.url)
    app = Front(upstream=upstream)
    sock = socket.create_server(("127.0.0.1", 0))  # bound here: no other test takes it
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=sock.getsockname()[1],
        loop="asyncio",
        http="httptools",
        lifespan="on",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield _FrontServer(f"http://127.0.0.1:{sock.getsockname()[1]}", upstream)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        _close_pool(app)
    assert not thread.is_alive(), "uvicorn did not stop"


def _close_pool(app: Front) -> None:
    """Each of the front's threads closes its database connection (the test database is
    flushed and dropped after), once the work queued before (risk's records) is done."""
    workers = app._pool._max_workers
    everyone = threading.Barrier(workers)

    def close():
        everyone.wait(timeout=30)
        connections.close_all()

    for done in [app._pool.submit(close) for _ in range(workers)]:
        done.result(timeout=60)
    app._pool.shutdown(wait=True)


def _orders(sale_id: int) -> str:
    return f"/api/v1/flash-sales/{sale_id}/orders"


def _warm(front: _FrontServer, buyers) -> None:
    """Each buyer opens a page before the start: Django reads its token and caches it."""
    for b in buyers:
        status, me = front.call("GET", "/api/v1/me", token=b.api.token)
        assert (status, me["id"]) == (200, b.pk)


def _write_all(item_id: int) -> int:
    written = 0
    while n := writer.write_batch(item_id=item_id):
        written += n
    return written


def test_40_buyers_on_10_units_through_the_front(front, make_sale, make_buyer):
    sale = make_sale(allotment=10, limit=1, buckets=4)
    item = FlashItem.objects.get(sale_id=sale["id"])
    buyers = [make_buyer() for _ in range(40)]
    _warm(front, buyers)
    assert front.upstream.handed == [("GET", "/api/v1/me")] * 40
    front.upstream.handed.clear()

    def buy(b):
        return lambda: front.call(
            "POST", _orders(sale["id"]), token=b.api.token, body=buy_body(sale, b)
        )

    answers = race([buy(b) for b in buyers])
    assert Counter(status for status, _ in answers) == Counter({202: 10, 409: 30})
    assert {a["code"] for status, a in answers if status == 409} == {"out_of_stock"}
    accepted = {
        a["ticket"]: b.pk for b, (status, a) in zip(buyers, answers, strict=True) if status == 202
    }
    assert len(accepted) == 10  # distinct tickets
    # The front answered them itself: Django was handed none of the buys.
    handed = [h for h in front.upstream.handed if h[0] == "POST"]
    assert len(handed) < 5, handed

    assert _write_all(item.pk) == 10
    written = dict(FlashOrder.objects.filter(item=item).values_list("ticket", "user_id"))
    assert written == accepted
    item, sold, left = _figures(sale)
    assert (sold, left) == (10, 0)
    assert sold + left == item.allotment
    problems, _ = run_checks()  # quanzi ledger check
    assert problems == []


def test_one_buyer_firing_six_identical_buys_at_once_gets_one(front, make_sale, make_buyer):
    sale = make_sale(allotment=10, limit=1)
    item = FlashItem.objects.get(sale_id=sale["id"])
    b = make_buyer()
    _warm(front, [b])
    front.upstream.handed.clear()

    def buy():
        return front.call("POST", _orders(sale["id"]), token=b.api.token, body=buy_body(sale, b))

    answers = race([buy] * 6)
    assert (
        sorted((s, a.get("code")) for s, a in answers)
        == [(202, None)] + [(409, "limit_exceeded")] * 5
    )
    assert [h for h in front.upstream.handed if h[0] == "POST"] == []
    assert _write_all(item.pk) == 1
    [order] = FlashOrder.objects.filter(item=item)
    assert order.user_id == b.pk
    item, sold, left = _figures(sale)
    assert (sold, left) == (1, 9)
    assert run_checks()[0] == []


def test_a_cold_token_and_a_keyed_buy_are_djangos(front, make_sale, make_buyer):
    sale = make_sale(allotment=10, limit=0)
    item = FlashItem.objects.get(sale_id=sale["id"])
    cold, keyed = make_buyer(), make_buyer()
    path = _orders(sale["id"])

    # A token the cache has not seen: the front hands the buy to Django, which takes it
    # (and caches the token: the next buy is the front's own).
    status, first = front.call("POST", path, token=cold.api.token, body=buy_body(sale, cold))
    assert (status, first["state"]) == (202, "queued")
    assert front.upstream.handed == [("POST", path)]
    status, second = front.call("POST", path, token=cold.api.token, body=buy_body(sale, cold))
    assert (status, second["state"]) == (202, "queued")
    assert front.upstream.handed == [("POST", path)]
    assert first["ticket"] != second["ticket"]

    # A keyed buy is Django's (its answer is recorded): sent twice, one ticket.
    _warm(front, [keyed])
    front.upstream.handed.clear()
    key = {"Idempotency-Key": f"front-race-{uuid.uuid4().hex[:8]}"}
    answers = [
        front.call("POST", path, token=keyed.api.token, body=buy_body(sale, keyed), headers=key)
        for _ in range(2)
    ]
    assert [s for s, _ in answers] == [202, 202]
    assert answers[0][1] == answers[1][1]
    assert front.upstream.handed == [("POST", path)] * 2

    assert _write_all(item.pk) == 3
    written = dict(FlashOrder.objects.filter(item=item).values_list("ticket", "user_id"))
    assert written == {
        first["ticket"]: cold.pk,
        second["ticket"]: cold.pk,
        answers[0][1]["ticket"]: keyed.pk,
    }
    item, sold, left = _figures(sale)
    assert (sold, left) == (3, 7)
    assert run_checks()[0] == []


def test_a_buy_costs_the_front_one_redis_round_trip_and_a_stranger_is_djangos(
    front, make_sale, make_buyer, monkeypatch
):
    """The token cache is the gate's Redis here: the gate's script reads the buyer
    itself, so neither an accepted buy nor the script's refusal (sold out) asks the token
    cache on its own, and the refused buyer is still the request's (risk records its
    device); a refusal raised before the script is answered once the buyer is known; a
    token the cache does not hold is Django's."""
    from quanzi.risk.models import RiskSignal

    asked = []
    token_user_id = Front.token_user_id

    async def counted(self, raw):
        asked.append(raw)
        return await token_user_id(self, raw)

    monkeypatch.setattr(Front, "token_user_id", counted)
    sale = make_sale(allotment=1, limit=1)
    later = make_sale(allotment=5, limit=1, starts_in=3600)
    b, late = make_buyer(), make_buyer()
    _warm(front, [b, late])
    front.upstream.handed.clear()

    status, ticket = front.call(
        "POST", _orders(sale["id"]), token=b.api.token, body=buy_body(sale, b)
    )
    assert (status, ticket["state"]) == (202, "queued")
    assert asked == []  # the buyer came from the gate's own script
    status, refused = front.call(
        "POST",
        _orders(sale["id"]),
        token=late.api.token,
        body=buy_body(sale, late),
        headers={"X-Device-Id": "dev-sold-out"},
    )
    assert (status, refused["code"]) == (409, "out_of_stock")
    assert asked == []  # the script named the buyer it refused
    seen = RiskSignal.objects.filter(user_id=late.pk, kind=RiskSignal.DEVICE)
    deadline = time.monotonic() + 10  # recorded on a thread of the front's, not awaited
    while not seen.filter(value="dev-sold-out").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(seen.values_list("value", flat=True)) == ["dev-sold-out"]
    status, early = front.call(
        "POST", _orders(later["id"]), token=late.api.token, body=buy_body(later, late)
    )
    assert (status, early["code"]) == (409, "flash_not_started")
    assert asked == [late.api.token]  # refused before the script: the token read first
    assert [h for h in front.upstream.handed if h[0] == "POST"] == []

    # A token nobody issued: Django answers, before and after the start alike.
    for s in (sale, later):
        status, answer = front.call("POST", _orders(s["id"]), token="forged", body=buy_body(s, b))
        assert (status, answer["code"]) == (401, "unauthorized")
    assert front.upstream.handed == [("POST", _orders(sale["id"])), ("POST", _orders(later["id"]))]

    assert _write_all(FlashItem.objects.get(sale_id=sale["id"]).pk) == 1
    assert FlashOrder.objects.get(ticket=ticket["ticket"]).user_id == b.pk
    assert run_checks()[0] == []
