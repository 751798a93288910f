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

# Keys of one item share a hash tag, so a Redis Cluster keeps them on one node. One call
# takes for one or many buyers of one item, in order, each as if alone: ARGV[1] is the
# writer claim's lifetime, then six fields per take (who, qty, limit, ticket id, taken
# at, queue mark). ``who`` is the buyer's id, or empty: then the script reads the id
# from the token cache's id entry (the digits Django stored), the next of KEYS[7…], and
# that take answers -4 when the cache does not hold the token (Django then reads it) and
# names the buyer in a refusal ({code, 0, who}): once sold out every answer is one, and
# it needs no second read. Those entries are outside the item's hash tag: a take by key
# runs only where the token cache's URL is the gate's, one Redis. One answer per take:
# {left after, wake, who}, or the refusal.
_TAKE = """
local ttl = ARGV[1]
local function take(who, by_key, qty, limit, tid, at, mark)
  local function refuse(code)
    if by_key then return {code, 0, who} end
    return code
  end
  local left = redis.call('GET', KEYS[1])
  if not left then return refuse(-3) end
  left = tonumber(left)
  if left < qty then return refuse(-1) end
  local held = tonumber(redis.call('HGET', KEYS[2], who) or '0')
  if limit > 0 and held + qty > limit then return refuse(-2) end
  redis.call('DECRBY', KEYS[1], qty)
  redis.call('HINCRBY', KEYS[2], who, qty)
  redis.call('HSET', KEYS[3], tid, who .. ':' .. qty .. ':' .. at .. ':' .. mark)
  local wake = 0
  if mark ~= '-' then
    redis.call('RPUSH', KEYS[4], tid)
    if redis.call('SET', KEYS[5], '1', 'NX', 'EX', ttl) then wake = 1 end
  end
  return {left - qty, wake, who}
end
local out = {}
local k = 6
for i = 2, #ARGV, 6 do
  local who, by_key = ARGV[i], false
  if who == '' then
    k = k + 1
    by_key = true
    who = redis.call('GET', KEYS[k])
    if who and not string.match(who, '^[1-9]%d*$') then who = nil end
  end
  if who then
    out[#out + 1] = take(who, by_key, tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]),
                         ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
  else
    out[#out + 1] = -4
  end
end
return out
"""

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


def _take_fields(*, item_id, user_id, qty, limit, queue, address_id) -> tuple[str, list]:
    """(the ticket id, the script's six fields of one take)."""
    tid = f"{item_id}-{secrets.token_hex(10)}"
    mark = str(address_id or 0) if queue else "-"
    who = "" if user_id is None else user_id
    return tid, [who, qty, limit, tid, int(time.time()), mark]


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
    tid, fields = _take_fields(limit=limit, address_id=address_id, **call)
    (answer,) = _script("take", _TAKE)(keys=keys(item_id), args=[WRITER_TTL, *fields])
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
    script, through an asyncio Redis client of the running loop, with the takes of the
    item that arrive while one call is in flight sent together in the next
    (``_Takes``). The buyer is ``user_id``, or the id the token cache holds at
    ``user_key`` (a key on this Redis): ``UNKNOWN_BUYER`` when it holds none, and a
    refusal as ``Refused`` (the code and the buyer it named)."""
    if (user_id is None) == (user_key is None):
        raise ValueError("take_async needs a user_id or a user_key")
    call = {"item_id": item_id, "user_id": user_id, "qty": qty, "queue": queue}
    tid, fields = _take_fields(limit=limit, address_id=address_id, **call)
    answer = await _takes(item_id).take(fields, user_key)
    return _taken(answer, tid=tid, address_id=address_id, **call)


# Most takes one call carries (the script runs them one after the other, holding Redis).
TAKES_PER_CALL = 256
_batches: dict[tuple[int, str, str, int], _Takes] = {}


class _Takes:
    """The takes of one item on one event loop. A take waits only while a call is in
    flight: then the takes that arrived meanwhile leave together, as one script call,
    so a loop with many buyers in flight spends one round trip (and Redis one script
    run) on many of them, and a lone buyer's take leaves at once."""

    def __init__(self, item_id: int):
        import asyncio

        self.loop = asyncio.get_running_loop()
        self.keys = keys(item_id)
        self.script = _script_async("take", _TAKE)
        self.waiting: list[tuple[list, str | None, object]] = []
        self.task = None  # the loop keeps only a weak reference to a task

    @property
    def sending(self) -> bool:
        return self.task is not None and not self.task.done()

    def take(self, fields: list, user_key: str | None):
        answer = self.loop.create_future()
        self.waiting.append((fields, user_key, answer))
        if not self.sending:
            self.task = self.loop.create_task(self._send())
        return answer

    async def _send(self) -> None:
        batch: list = []
        try:
            while self.waiting:
                batch = self.waiting[:TAKES_PER_CALL]
                del self.waiting[:TAKES_PER_CALL]
                args: list = [WRITER_TTL]
                user_keys = []
                for fields, user_key, _ in batch:
                    args += fields
                    if user_key is not None:
                        user_keys.append(user_key)
                try:
                    answers = await self.script(keys=[*self.keys, *user_keys], args=args)
                except Exception as exc:  # noqa: BLE001 - each take raises it, as alone
                    for _, _, answer in batch:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                for (_, _, answer), value in zip(batch, answers, strict=True):
                    if not answer.done():
                        answer.set_result(value)
        finally:
            for _, _, answer in (*batch, *self.waiting):  # cancelled: none waits forever
                if not answer.done():
                    answer.cancel()
            self.waiting.clear()


def _takes(item_id: int) -> _Takes:
    import asyncio

    loop = asyncio.get_running_loop()
    key = (id(loop), url(), _prefix(), item_id)
    takes = _batches.get(key)
    if takes is None or takes.loop is not loop:  # a new loop may reuse a closed one's id
        if len(_batches) > 1000:
            for old in [k for k, t in _batches.items() if not t.sending]:
                del _batches[old]
        takes = _batches[key] = _Takes(item_id)
    return takes


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
