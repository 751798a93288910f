"""The flash gate's fast path: ``POST /api/v1/flash-sales/{id}/orders`` in queue mode,
answered in front of Django (``quanzi.core.fastpaths``).

At a sale's start the gate's answer is one Lua call; what a buyer's request cost beyond
it was Django's middleware stack and django-ninja's operation. This path answers the
plain request — a bearer token the token cache knows, a body of the operation's fields
with their exact types, no ``Idempotency-Key``, no ``pay`` — by calling the same
service as the API (``services.flash_queue``: the sale read at most once a second per
process, the Lua gate), so every answer (``202 {ticket, state}``, ``404
flash_sale_not_found``, ``409 flash_not_started`` / ``flash_ended`` /
``out_of_stock`` / ``limit_exceeded``, ``422 sku_not_in_sale`` / ``address_required``)
is the API's. Everything else goes on to the API unchanged: a token not in the cache
(the API reads it and caches it), a body the schema would refuse or coerce, ``pay``
(``422 pay_after_queue`` after the API validates it), a keyed request (its answer is
recorded in the database), and the gate out of queue mode or off.
"""

from __future__ import annotations

from typing import Any

from quanzi.core.errors import QuanziError
from quanzi.core.schemas import MAX_ID

PATH = r"^/api/v1/flash-sales/([1-9][0-9]{0,17})/orders$"

_FIELDS = {"sku_id", "qty", "address_id", "note", "pay"}


def _id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _plain_body(data: dict[str, Any]) -> tuple[int, int, int | None] | None:
    """(sku id, qty, address id) when the body is one the API's schema takes as it is
    (strict types, its bounds), with no ``pay``; None otherwise."""
    sku_id = data.get("sku_id")
    if not _id(sku_id):
        return None
    qty = data.get("qty", 1)
    if type(qty) is not int or not 1 <= qty <= 999:
        return None
    address_id = data.get("address_id")
    if address_id is not None and not _id(address_id):
        return None
    note = data.get("note")
    if note is not None and (type(note) is not str or len(note) > 200):
        return None
    if data.get("pay") is not None:
        return None
    return sku_id, qty, address_id


def sale_buy_queued(request) -> tuple[int, dict[str, Any]] | None:
    from quanzi.flash import gate, services

    if not gate.queued() or "HTTP_IDEMPOTENCY_KEY" in request.environ:
        return None
    fields = _plain_body(request.data)
    if fields is None:
        return None
    user = request.bearer_user()
    if user is None:
        return None
    request.auth = user
    sku_id, qty, address_id = fields
    try:
        ticket = services.flash_queue(
            user=user,
            sale_id=int(request.match.group(1)),
            sku_id=sku_id,
            qty=qty,
            address_id=address_id,
        )
    except QuanziError as exc:
        return exc.status, exc.as_dict()
    return 202, {"ticket": ticket.id, "state": "queued"}


async def sale_buy_queued_async(request) -> tuple[int, dict[str, Any]] | None:
    """The same in the async front (``quanzi.core.front``): the buyer known by the
    token cache's id entry, the gate's script on the loop's Redis client. When the
    token cache is the gate's Redis, the script reads that entry itself (one round trip
    per buyer), and a refusal of the script names the buyer too; any other refusal is
    answered only once the buyer is known, so a token the cache does not hold is
    Django's to judge, as before."""
    from quanzi.flash import gate, services

    if not gate.queued() or "HTTP_IDEMPOTENCY_KEY" in request.environ:
        return None
    fields = _plain_body(request.data)
    if fields is None:
        return None
    user_key = request.bearer_user_key(on=gate.url())
    user_id = None
    if user_key is None:
        user_id = await request.bearer_user_id()
        if user_id is None:
            return None
    sku_id, qty, address_id = fields
    try:
        ticket = await services.flash_queue_async(
            user_id=user_id,
            user_key=user_key,
            sale_id=int(request.match.group(1)),
            sku_id=sku_id,
            qty=qty,
            address_id=address_id,
            run_sync=request.run_sync,
            on_buyer=request.signed_in,
        )
    except QuanziError as exc:
        if request.auth is None and await request.bearer_user_id() is None:
            return None
        return exc.status, exc.as_dict()
    if ticket is None:
        return None  # the token cache does not hold the token: the API reads it
    request.signed_in(ticket.user_id)
    return 202, {"ticket": ticket.id, "state": "queued"}


def register() -> None:
    from quanzi.core import fastpaths

    fastpaths.register("POST", PATH, sale_buy_queued)
    fastpaths.register_async("POST", PATH, sale_buy_queued_async)
