"""The Redis gate in front of the database: one Lua script takes units off an item's
counter and checks and raises the buyer's count in the same step, so the flood of
buyers at a sale's start is answered by Redis, and only buyers holding a ticket write
an order. The database's bucket rows stay the truth; the gate is rebuilt from them when
Redis lost its keys, and ``reconcile`` returns the tickets whose order was never written.

Without Redis (``QUANZI_REDIS_URL`` unset: SQLite, ``quanzi demo``) there is no gate
(``enabled()`` is False) and the buckets alone decide.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings

# Keys of one item share a hash tag, so a Redis Cluster keeps them on one node. ``who``
# is the buyer's id: ARGV[1], or (``_TAKE_BY_KEY``) read from the token cache; ``refuse``
# says how a refusal is answered (the code, or with the buyer the cache named).
_TAKE_BODY = """
local left = redis.call('GET', KEYS[1])
if not left then return refuse(-3) end
left = tonumber(left)
local qty = tonumber(ARGV[2])
if left < qty then return refuse(-1) end
local limit = tonumber(ARGV[3])
local held = tonumber(redis.call('HGET', KEYS[2], who) or '0')
if limit > 0 and held + qty > limit then return refuse(-2) end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], who, qty)
redis.call('HSET', KEYS[3], ARGV[4], who .. ':' .. ARGV[2] .. ':' .. ARGV[5] .. ':' .. ARGV[6])
local wake = 0
if ARGV[6] ~= '-' then
  redis.call('RPUSH', KEYS[4], ARGV[4])
  if redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[7]) then wake = 1 end
end
return {left - qty, wake, who}
"""
_TAKE = (
    """
local who = ARGV[1]
local function refuse(code) return code end"""
    + _TAKE_BODY
)

# The async front's take when the token cache lives on the gate's Redis: the buyer's id
# is read from the token cache's id entry (KEYS[7], the digits Django stored) in the
# same step, so a buyer at the sale's start costs one round trip, not two; -4 when the
# cache does not hold the token (Django then reads it). A refusal names the buyer too
# ({code, 0, who}): once sold out, every answer is one, and it needs no second read.
# The entry's key is outside the item's hash tag: this runs only where the cache's URL
# is the gate's, one Redis.
_TAKE_BY_KEY = (
    """
local who = redis.call('GET', KEYS[7])
if not who or not string.match(who, '^[1-9]%d*$') then return -4 end
local function refuse(code) return {code, 0, who} end"""
    + _TAKE_BODY
)

# A ticket given back (its order was never written): units and the buyer's count return.
_RELEASE = """
local t = redis.call('HGET', KEYS[3], ARGV[1])
if not t then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
local user, qty = string.match(t, '^([^:]+):([^:]+):')
if ARGV[2] and ARGV[2] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[1], user .. ':' .. ARGV[2])
  redis.call('EXPIRE', KEYS[4], 86400)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], tonumber(qty))
  redis.call('HINCRBY', KEYS[2], user, -tonumber(qty))
end
return 1
"""

# Units of a cancelled order back at the gate (only while the gate is loaded: a missing
# gate is rebuilt from the database, which already has them).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
return 1
"""

# Load the gate from the database's figures unless someone loaded it first.
_LOAD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""

# Set the gate to the database's figures minus the tickets still in flight.
_RESYNC = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local pend = redis.call('HVALS', KEYS[3])
local total = 0
local by_user = {}
for _, t in ipairs(pend) do
  local user, qty = string.match(t, '^([^:]+):([^:]+):')
  total = total + tonumber(qty)
  by_user[user] = (by_user[user] or 0) + tonumber(qty)
end
local before = tonumber(redis.call('GET', KEYS[1]))
local left = tonumber(ARGV[1]) - total
if left < 0 then left = 0 end
redis.call('SET', KEYS[1], left)
redis.call('DEL', KEYS[2])
for i = 2, #ARGV, 2 do
  local u = ARGV[i]
  redis.call('HSET', KEYS[2], u, tonumber(ARGV[i + 1]) + (by_user[u] or 0))
  by_user[u] = nil
end
for u, q in pairs(by_user) do redis.call('HSET', KEYS[2], u, q) end
return left - before
"""

SOLD_OUT, OVER_LIMIT, NOT_LOADED, UNKNOWN_BUYER = -1, -2, -3, -4


@dataclass(frozen=True)
class Refused:
    """A refusal (``SOLD_OUT``, ``OVER_LIMIT`` or ``NOT_LOADED``) of a take whose buyer
    the token cache named: who was refused, as the script read it."""

    code: int
    user_id: int


# A writer's claim on an item's queue lives this long unless renewed (a killed writer
# stops renewing it, and the next buyer or the reconciler wakes another).
WRITER_TTL = 30

_override: dict[str, object] = {}
_clients: dict[str, object] = {}
_scripts: dict[tuple[str, str], object] = {}
_async_scripts: dict[tuple[str, str], tuple[object, object]] = {}


def configure(*, url: str | None, prefix: str = "quanzi:flash", queue: bool | None = None) -> None:
    """Point the gate elsewhere (tests, benchmarks); ``url=None`` turns it off;
    ``queue`` overrides ``FLASH_QUEUE`` (tickets written by a writer, not the request)."""
    _override.clear()
    _override.update({"url": url or "", "prefix": prefix})
    _forget_items()
    if queue is not None:
        _override["queue"] = queue


def reset() -> None:
    _override.clear()
    _forget_items()


def _forget_items() -> None:
    from quanzi.flash.services import items_forget

    items_forget()


def url() -> str:
    """The gate's Redis (empty: no gate)."""
    return str(_override["url"]) if "url" in _override else settings.REDIS_URL


def _prefix() -> str:
    return str(_override.get("prefix") or settings.FLASH_REDIS_PREFIX)


def enabled() -> bool:
    return bool(url())


def queued() -> bool:
    """With the gate, does a ticket go to the writers' queue (answer ``202``) rather than
    being written by the request itself?"""
    if not enabled():
        return False
    return bool(_override["queue"]) if "queue" in _override else settings.FLASH_QUEUE


def client():
    import redis

    where = url()
    if where not in _clients:
        _clients[where] = redis.Redis.from_url(where, socket_timeout=5, decode_responses=True)
    return _clients[where]


def _script(name: str, body: str):
    key = (url(), name)
    if key not in _scripts:
        _scripts[key] = client().register_script(body)
    return _scripts[key]


def _script_async(name: str, body: str):
    """The script on an asyncio client of the running loop (a client's connections
    belong to the loop that opened them)."""
    import asyncio

    import redis.asyncio

    loop = asyncio.get_running_loop()
    key = (url(), name)
    held = _async_scripts.get(key)
    if held is None or held[0] is not loop:
        conn = redis.asyncio.Redis.from_url(url(), socket_timeout=5, decode_responses=True)
        held = _async_scripts[key] = (loop, conn.register_script(body))
    return held[1]


def keys(item_id: int) -> list[str]:
    """left, users, pending, queue, writer, failed."""
    base = f"{_prefix()}:{{{item_id}}}"
    return [
        f"{base}:left",
        f"{base}:users",
        f"{base}:pending",
        f"{base}:queue",
        f"{base}:writer",
        f"{base}:failed",
    ]


@dataclass(frozen=True)
class Ticket:
    item_id: int
    user_id: int
    qty: int
    id: str
    address_id: int | None = None
    at: int = 0
    queued: bool = False
    wake: bool = False  # this take claimed the item's writer: start one


def ticket_item(ticket_id: str) -> int | None:
    """The item a ticket id belongs to (ids are ``<item id>-<random>``)."""
    head, _, rest = (ticket_id or "").partition("-")
    return int(head) if head.isdigit() and rest and len(ticket_id) <= 32 else None


def _parse(ticket_id: str, item_id: int, value: str) -> Ticket:
    parts = value.split(":")
    user, qty, at = int(parts[0]), int(parts[1]), int(parts[2])
    addr = parts[3] if len(parts) > 3 else "-"
    return Ticket(
        item_id=item_id,
        user_id=user,
        qty=qty,
        id=ticket_id,
        at=at,
        address_id=int(addr) if addr not in ("-", "0") else None,
        queued=addr != "-",
    )


def _take_call(*, item_id, user_id, qty, limit, queue, address_id):
    tid = f"{item_id}-{secrets.token_hex(10)}"
    mark = str(address_id or 0) if queue else "-"
    return tid, keys(item_id), [user_id, qty, limit, tid, int(time.time()), mark, WRITER_TTL]


def _taken(answer, *, tid, item_id, user_id, qty, queue, address_id) -> Ticket | Refused | int:
    if isinstance(answer, list) and int(answer[0]) < 0:
        return Refused(code=int(answer[0]), user_id=int(answer[2]))
    if isinstance(answer, list):
        return Ticket(
            item_id=item_id,
            user_id=int(answer[2]) if user_id is None else user_id,
            qty=qty,
            id=tid,
            address_id=address_id if queue else None,
            queued=queue,
            wake=bool(answer[1]),
        )
    return int(answer)


def take(
    *, item_id: int, user_id: int, qty: int, limit: int, queue: bool = False, address_id=None
) -> Ticket | int:
    """A ticket, or ``SOLD_OUT``, ``OVER_LIMIT`` or ``NOT_LOADED``. With ``queue`` the
    ticket also joins the item's queue for the writers (in the same step), and
    ``ticket.wake`` says whether this call claimed the item's writer."""
    call = {"item_id": item_id, "user_id": user_id, "qty": qty, "queue": queue}
    tid, k, args = _take_call(limit=limit, address_id=address_id, **call)
    answer = _script("take", _TAKE)(keys=k, args=args)
    return _taken(answer, tid=tid, address_id=address_id, **call)


async def take_async(
    *,
    item_id: int,
    user_id: int | None = None,
    user_key: str | None = None,
    qty: int,
    limit: int,
    queue: bool = False,
    address_id=None,
) -> Ticket | Refused | int:
    """``take`` on an event loop (the async front, ``quanzi.core.front``): the same
    script, through an asyncio Redis client of the running loop. The buyer is
    ``user_id``, or the id the token cache holds at ``user_key`` (a key on this Redis):
    ``UNKNOWN_BUYER`` when it holds none, and a refusal as ``Refused`` (the code and
    the buyer it named)."""
    if (user_id is None) == (user_key is None):
        raise ValueError("take_async needs a user_id or a user_key")
    call = {"item_id": item_id, "user_id": user_id, "qty": qty, "queue": queue}
    tid, k, args = _take_call(limit=limit, address_id=address_id, **call)
    if user_key is None:
        answer = await _script_async("take", _TAKE)(keys=k, args=args)
    else:
        args[0] = ""  # the script reads the buyer from the token cache
        answer = await _script_async("take_by_key", _TAKE_BY_KEY)(keys=[*k, user_key], args=args)
    return _taken(answer, tid=tid, address_id=address_id, **call)


def release(*, item_id: int, ticket_id: str, reason: str = "") -> bool:
    """Give a ticket back (its units and the buyer's count); with ``reason`` the buyer's
    poll of the ticket reads that refusal code for a day."""
    k = keys(item_id)
    return bool(
        _script("release", _RELEASE)(keys=[k[0], k[1], k[2], k[5]], args=[ticket_id, reason])
    )


def done(*, item_id: int, ticket_id: str) -> None:
    """The ticket's order is committed: its units stay sold."""
    client().hdel(keys(item_id)[2], ticket_id)


def done_many(*, item_id: int, ticket_ids: list[str]) -> None:
    if ticket_ids:
        client().hdel(keys(item_id)[2], *ticket_ids)


def give_back(*, item_id: int, user_id: int, qty: int) -> None:
    _script("give_back", _GIVE_BACK)(keys=keys(item_id), args=[user_id, qty])


def load(*, item_id: int, left: int, held: dict[int, int]) -> bool:
    args: list[object] = [left]
    for user_id, units in held.items():
        args += [user_id, units]
    return bool(_script("load", _LOAD)(keys=keys(item_id), args=args))


def resync(*, item_id: int, left: int, held: dict[int, int]) -> int | None:
    """Set the gate to the database's figures; returns the change of ``left`` (None when
    the gate was not loaded)."""
    args: list[object] = [left]
    for user_id, units in held.items():
        args += [user_id, units]
    answer = _script("resync", _RESYNC)(keys=keys(item_id), args=args)
    return None if answer == -1 and not client().exists(keys(item_id)[0]) else int(answer)


def pending(*, item_id: int) -> dict[str, tuple[int, int, int]]:
    """Tickets in flight: id → (user id, qty, taken at, epoch seconds)."""
    out = {}
    for tid, value in client().hgetall(keys(item_id)[2]).items():
        t = _parse(tid, item_id, value)
        out[tid] = (t.user_id, t.qty, t.at)
    return out


def tickets(*, item_id: int, ticket_ids: list[str]) -> dict[str, Ticket]:
    """The tickets still in flight among ``ticket_ids`` (released ones are left out)."""
    if not ticket_ids:
        return {}
    values = client().hmget(keys(item_id)[2], ticket_ids)
    return {
        tid: _parse(tid, item_id, value)
        for tid, value in zip(ticket_ids, values, strict=True)
        if value is not None
    }


def ticket(*, ticket_id: str) -> Ticket | None:
    item_id = ticket_item(ticket_id)
    if item_id is None:
        return None
    return tickets(item_id=item_id, ticket_ids=[ticket_id]).get(ticket_id)


def refusal(*, ticket_id: str) -> tuple[int, str] | None:
    """(user id, code) of a ticket refused by its writer, for a day."""
    item_id = ticket_item(ticket_id)
    if item_id is None:
        return None
    value = client().hget(keys(item_id)[5], ticket_id)
    if not value:
        return None
    user, _, code = value.partition(":")
    return int(user), code


def pop(*, item_id: int, count: int) -> list[str]:
    """Up to ``count`` ticket ids off the head of the item's queue."""
    return list(client().lpop(keys(item_id)[3], count) or [])


def queue(*, item_id: int) -> list[str]:
    return list(client().lrange(keys(item_id)[3], 0, -1))


def requeue(*, item_id: int, ticket_ids: list[str]) -> None:
    if ticket_ids:
        client().rpush(keys(item_id)[3], *ticket_ids)


def writer_claim(*, item_id: int) -> bool:
    return bool(client().set(keys(item_id)[4], "1", nx=True, ex=WRITER_TTL))


def writer_renew(*, item_id: int) -> None:
    client().set(keys(item_id)[4], "1", ex=WRITER_TTL)


def writer_done(*, item_id: int) -> bool:
    """Let go of the item's writer; True when tickets arrived meanwhile and the claim was
    taken again (the caller goes on writing)."""
    c = client()
    c.delete(keys(item_id)[4])
    return bool(c.llen(keys(item_id)[3])) and writer_claim(item_id=item_id)


def left(*, item_id: int) -> int | None:
    value = client().get(keys(item_id)[0])
    return None if value is None else int(value)


def drop(*, item_id: int) -> None:
    """Forget the item's counters (closing; or Redis losing them in a test). The queue and
    the tickets in flight go with them: the reconciler and the buckets make that right."""
    client().delete(*keys(item_id), keys(item_id)[2] + ":tries")
