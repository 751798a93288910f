"""The async front's takes of one item leave in one script call while another is in
flight, and each is answered as if it had gone alone."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from quanzi.flash.gate import Refused, Ticket


def _item() -> int:
    return 800_000 + uuid.uuid4().int % 90_000


@pytest.fixture
def calls(redis_queue_no_writer, monkeypatch):
    """How many takes each script call of the gate carried."""
    gate = redis_queue_no_writer
    seen: list[int] = []
    made = gate._Takes.__init__

    def counting_init(self, item_id):
        made(self, item_id)
        script = self.script

        async def counted(*, keys, args):
            seen.append((len(args) - 1) // 6)
            return await script(keys=keys, args=args)

        self.script = counted

    monkeypatch.setattr(gate._Takes, "__init__", counting_init)
    return seen


def test_takes_in_flight_together_leave_in_one_call_each_answered_as_alone(
    redis_queue_no_writer, calls
):
    gate = redis_queue_no_writer
    item = _item()
    gate.load(item_id=item, left=5, held={3: 1})
    # Buyer 2 three times in a row (over its limit of 2 on the third), buyer 1 twice,
    # buyer 3 already holding one, buyer 4 last: 5 units for 8 asks.
    buyers = [1, 2, 2, 2, 1, 3, 4, 4]

    async def scenario():
        take = {"item_id": item, "qty": 1, "limit": 2, "queue": True, "address_id": 9}
        return await asyncio.gather(*(gate.take_async(user_id=u, **take) for u in buyers))

    answers = asyncio.run(scenario())
    assert calls == [8]  # one call for all eight
    granted = [a for a in answers if isinstance(a, Ticket)]
    assert [t.user_id for t in granted] == [1, 2, 2, 1, 3]
    assert [answers[3], *answers[6:]] == [gate.OVER_LIMIT, gate.SOLD_OUT, gate.SOLD_OUT]
    assert len({t.id for t in granted}) == 5
    assert [t.wake for t in granted] == [True, False, False, False, False]  # one writer
    assert gate.left(item_id=item) == 0
    assert gate.queue(item_id=item) == [t.id for t in granted]
    assert {tid: v[:2] for tid, v in gate.pending(item_id=item).items()} == {
        t.id: (t.user_id, 1) for t in granted
    }
    gate.drop(item_id=item)


def test_a_lone_take_leaves_at_once_and_later_ones_wait_only_for_the_call_in_flight(
    redis_queue_no_writer, calls
):
    gate = redis_queue_no_writer
    item = _item()
    gate.load(item_id=item, left=100, held={})
    take = {"item_id": item, "qty": 1, "limit": 1, "queue": True, "address_id": 9}

    async def scenario():
        first = await gate.take_async(user_id=1, **take)
        # Three arrive, one after the other, while nothing is in flight: the first leaves
        # alone, the two that came while it was in flight leave together.
        rest = []
        for u in (2, 3, 4):
            rest.append(asyncio.ensure_future(gate.take_async(user_id=u, **take)))
            await asyncio.sleep(0)
        return [first, *await asyncio.gather(*rest)]

    answers = asyncio.run(scenario())
    assert all(isinstance(a, Ticket) for a in answers)
    assert [a.user_id for a in answers] == [1, 2, 3, 4]
    assert calls == [1, 1, 2]
    assert gate.left(item_id=item) == 96
    gate.drop(item_id=item)


def test_by_key_and_by_id_in_one_call_each_read_their_own_buyer(redis_queue_no_writer, calls):
    gate = redis_queue_no_writer
    item = _item()
    gate.load(item_id=item, left=3, held={})
    client = gate.client()
    known, unknown = f"qztest:tok:{uuid.uuid4().hex}", f"qztest:tok:{uuid.uuid4().hex}"
    client.set(known, "77", ex=60)

    async def scenario():
        take = {"item_id": item, "qty": 1, "limit": 1, "queue": True, "address_id": 9}
        return await asyncio.gather(
            gate.take_async(user_key=unknown, **take),
            gate.take_async(user_key=known, **take),
            gate.take_async(user_id=5, **take),
            gate.take_async(user_key=known, **take),
            gate.take_async(user_id=6, **take),
        )

    try:
        nobody, by_key, by_id, again, late = asyncio.run(scenario())
    finally:
        client.delete(known)
    assert calls == [5]
    assert nobody == gate.UNKNOWN_BUYER
    assert isinstance(by_key, Ticket) and by_key.user_id == 77
    assert isinstance(by_id, Ticket) and by_id.user_id == 5
    assert again == Refused(code=gate.OVER_LIMIT, user_id=77)
    assert isinstance(late, Ticket) and late.user_id == 6
    assert gate.left(item_id=item) == 0
    gate.drop(item_id=item)


def test_when_redis_is_unreachable_every_take_of_the_call_raises():
    import redis

    from quanzi.flash import gate

    async def scenario():
        take = {"item_id": 1, "qty": 1, "limit": 1, "queue": True, "address_id": 9}
        return await asyncio.gather(
            *(gate.take_async(user_id=u, **take) for u in (1, 2, 3)), return_exceptions=True
        )

    gate.configure(url="redis://127.0.0.1:1/0", prefix="qztest:none", queue=True)
    try:
        answers = asyncio.run(scenario())
    finally:
        gate.reset()
    assert len(answers) == 3
    assert all(isinstance(a, redis.exceptions.ConnectionError) for a in answers)


@pytest.mark.django_db
def test_buyers_who_find_the_gate_unloaded_together_wait_for_one_rebuild(
    redis_queue_no_writer, make_sale, make_buyer, monkeypatch
):
    from django.db import connections

    from quanzi.flash import services

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # run_sync runs inline here
    sale = make_sale(allotment=10, limit=1)
    from quanzi.flash.models import FlashItem

    item_id = FlashItem.objects.get(sale_id=sale["id"]).pk
    assert redis_queue_no_writer.left(item_id=item_id) is None  # nothing loaded yet
    buyers = [make_buyer() for _ in range(6)]
    ran: list[str] = []

    async def run_sync(fn, *args, **kwargs):
        ran.append(fn.__name__)
        return fn(*args, **kwargs)

    # In an async context Django opens a connection of its own: the tasks use the
    # test's, whose transaction holds the sale.
    test_connection = connections["default"]

    async def scenario():
        connections["default"] = test_connection
        return await asyncio.gather(
            *(
                services.flash_queue_async(
                    user_id=b.pk,
                    sale_id=sale["id"],
                    sku_id=sale["items"][0]["sku_id"],
                    qty=1,
                    address_id=b.address_id,
                    run_sync=run_sync,
                )
                for b in buyers
            )
        )

    tickets = asyncio.run(scenario())
    assert sorted(t.user_id for t in tickets) == sorted(b.pk for b in buyers)
    assert ran.count("gate_rebuild") == 1
    assert redis_queue_no_writer.left(item_id=item_id) == 4
