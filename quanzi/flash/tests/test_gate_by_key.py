"""The gate's take in the async front when the token cache lives on the gate's Redis:
the script reads the buyer's id from the token cache's entry in the same step."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from quanzi.flash.gate import Ticket


def _item() -> int:
    return 900_000 + uuid.uuid4().int % 90_000


@pytest.fixture
def token_keys(redis_queue_no_writer):
    """Token cache entries written straight to Redis (what Django's cache stores for a
    token's user id: the digits); deleted afterwards."""
    made = []

    def put(value: str | None) -> str:
        key = f"qztest:tok:{uuid.uuid4().hex}"
        made.append(key)
        if value is not None:
            redis_queue_no_writer.client().set(key, value, ex=60)
        return key

    yield put
    if made:
        redis_queue_no_writer.client().delete(*made)


def test_the_buyer_named_by_the_token_cache_takes_and_is_counted(redis_queue_no_writer, token_keys):
    gate = redis_queue_no_writer
    item = _item()
    gate.load(item_id=item, left=3, held={})
    key = token_keys("42")

    async def scenario():
        take = {"item_id": item, "qty": 1, "limit": 1, "queue": True, "address_id": 7}
        ticket = await gate.take_async(user_key=key, **take)
        by_id = await gate.take_async(user_id=42, **take)
        again = await gate.take_async(user_key=key, **take)
        return ticket, by_id, again

    ticket, by_id, again = asyncio.run(scenario())
    assert isinstance(ticket, Ticket)
    assert (ticket.user_id, ticket.qty, ticket.address_id, ticket.queued) == (42, 1, 7, True)
    assert gate.pending(item_id=item)[ticket.id][:2] == (42, 1)
    assert gate.queue(item_id=item) == [ticket.id]
    # One buyer, whichever way the script learnt who it was: the limit of 1 holds, and a
    # refusal by key names the buyer the cache held.
    assert by_id == gate.OVER_LIMIT
    assert again == gate.Refused(code=gate.OVER_LIMIT, user_id=42)
    assert gate.left(item_id=item) == 2
    gate.drop(item_id=item)


@pytest.mark.parametrize("entry", [None, "not-a-user", "0", "12ab"])
def test_a_token_the_cache_does_not_hold_takes_nothing(redis_queue_no_writer, token_keys, entry):
    gate = redis_queue_no_writer
    item, unloaded = _item(), _item()
    gate.load(item_id=item, left=3, held={})
    key = token_keys(entry)

    async def scenario():
        take = {"qty": 1, "limit": 0, "queue": True, "address_id": 7, "user_key": key}
        return (
            await gate.take_async(item_id=item, **take),
            # Not even a gate to rebuild is reported for a buyer nobody knows.
            await gate.take_async(item_id=unloaded, **take),
        )

    assert asyncio.run(scenario()) == (gate.UNKNOWN_BUYER, gate.UNKNOWN_BUYER)
    assert gate.left(item_id=item) == 3
    assert gate.pending(item_id=item) == {}
    assert gate.queue(item_id=item) == []
    assert gate.left(item_id=unloaded) is None
    gate.drop(item_id=item)


def test_a_take_names_its_buyer_one_way(redis_queue_no_writer):
    gate = redis_queue_no_writer
    for who in ({}, {"user_id": 1, "user_key": "k"}):
        with pytest.raises(ValueError):
            asyncio.run(gate.take_async(item_id=1, qty=1, limit=0, **who))


def test_a_refusal_by_key_names_the_buyer_and_takes_nothing(redis_queue_no_writer, token_keys):
    """Sold out, and a gate not loaded: the answer carries the buyer the cache named, so
    the front knows whom it refused without reading the token again."""
    gate = redis_queue_no_writer
    item, unloaded = _item(), _item()
    gate.load(item_id=item, left=1, held={})
    first, second = token_keys("7"), token_keys("8")

    async def scenario():
        take = {"qty": 1, "limit": 0, "queue": True, "address_id": 7}
        return (
            await gate.take_async(item_id=item, user_key=first, **take),
            await gate.take_async(item_id=item, user_key=second, **take),
            await gate.take_async(item_id=unloaded, user_key=second, **take),
            await gate.take_async(item_id=item, user_id=8, **take),
        )

    ticket, sold_out, not_loaded, by_id = asyncio.run(scenario())
    assert isinstance(ticket, Ticket) and ticket.user_id == 7
    assert sold_out == gate.Refused(code=gate.SOLD_OUT, user_id=8)
    assert not_loaded == gate.Refused(code=gate.NOT_LOADED, user_id=8)
    assert by_id == gate.SOLD_OUT  # by id the caller knows the buyer: the bare code
    assert gate.left(item_id=item) == 0
    assert list(gate.pending(item_id=item)) == [ticket.id]
    assert gate.left(item_id=unloaded) is None
    gate.drop(item_id=item)
