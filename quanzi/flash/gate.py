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

# Keys of one item share a hash tag, so a Redis Cluster keeps them on one node.
_TAKE = """
local left = redis.call('GET', KEYS[1])
if not left then return -3 end
left = tonumber(left)
local qty = tonumber(ARGV[2])
if left < qty then return -1 end
local limit = tonumber(ARGV[3])
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if limit > 0 and held + qty > limit then return -2 end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[5])
return left - qty
"""

# A ticket given back (its order was never written): units and the buyer's count return.
_RELEASE = """
local t = redis.call('HGET', KEYS[3], ARGV[1])
if not t then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
local user, qty = string.match(t, '^([^:]+):([^:]+):')
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

SOLD_OUT, OVER_LIMIT, NOT_LOADED = -1, -2, -3

_override: dict[str, object] = {}
_clients: dict[str, object] = {}
_scripts: dict[tuple[str, str], object] = {}


def configure(*, url: str | None, prefix: str = "quanzi:flash") -> None:
    """Point the gate elsewhere (tests, benchmarks); ``url=None`` turns it off."""
    _override.clear()
    _override.update({"url": url or "", "prefix": prefix})


def reset() -> None:
    _override.clear()


def _url() -> str:
    return str(_override["url"]) if "url" in _override else settings.REDIS_URL


def _prefix() -> str:
    return str(_override.get("prefix") or settings.FLASH_REDIS_PREFIX)


def enabled() -> bool:
    return bool(_url())


def client():
    import redis

    url = _url()
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
    return _clients[url]


def _script(name: str, body: str):
    key = (_url(), name)
    if key not in _scripts:
        _scripts[key] = client().register_script(body)
    return _scripts[key]


def keys(item_id: int) -> list[str]:
    base = f"{_prefix()}:{{{item_id}}}"
    return [f"{base}:left", f"{base}:users", f"{base}:pending"]


@dataclass(frozen=True)
class Ticket:
    item_id: int
    user_id: int
    qty: int
    id: str


def take(*, item_id: int, user_id: int, qty: int, limit: int) -> Ticket | int:
    """A ticket, or ``SOLD_OUT``, ``OVER_LIMIT`` or ``NOT_LOADED``."""
    tid = secrets.token_hex(12)
    answer = _script("take", _TAKE)(
        keys=keys(item_id), args=[user_id, qty, limit, tid, int(time.time())]
    )
    if answer < 0:
        return int(answer)
    return Ticket(item_id=item_id, user_id=user_id, qty=qty, id=tid)


def release(*, item_id: int, ticket_id: str) -> bool:
    return bool(_script("release", _RELEASE)(keys=keys(item_id), args=[ticket_id]))


def done(*, item_id: int, ticket_id: str) -> None:
    """The ticket's order is committed: its units stay sold."""
    client().hdel(keys(item_id)[2], ticket_id)


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
        user, qty, at = value.split(":")
        out[tid] = (int(user), int(qty), int(at))
    return out


def left(*, item_id: int) -> int | None:
    value = client().get(keys(item_id)[0])
    return None if value is None else int(value)


def drop(*, item_id: int) -> None:
    client().delete(*keys(item_id))
