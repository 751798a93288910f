"""The group join's refusals, answered in front of Django (``quanzi.core.fastpaths``).

When a group goes round a chat, dozens of buyers tap "join" within a second and all but
the last few places' worth hear that the group is full or closed. Each of those answers
cost a web process Django's middleware stack and django-ninja's operation around two
reads. This path answers them with what the API itself reads and decides
(``channel.group_with_holders`` and ``group_check_joinable``, the plain-read refusals
of ``services.group_slot_take``): ``404 group_not_found``, ``409 group_not_open``,
``group_closed``, ``own_group`` and ``group_full``, recorded under the request's
``Idempotency-Key`` as the API records a refusal (``refusal_remember``), so a retry is
answered the same by either.

Everything else goes on to the API unchanged: a join that may go through (the API takes
the place and places the order), ``already_joined`` (the API waits for the person's own
join in flight), a token not in the cache, a body the schema would refuse or coerce, an
``Idempotency-Key`` the API would refuse (empty or longer than 128) or one already
answered (the API replays that answer).
"""

from __future__ import annotations

from typing import Any

from quanzi.core.errors import QuanziError

PATH = r"^/api/v1/groups/([1-9][0-9]{0,17})/join$"

_MAX_REF = 2**62  # the join schema's bound on ids


def _id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= _MAX_REF


def join_body(data: dict[str, Any]) -> dict[str, Any] | None:
    """The body as the API's join schema reads it (``payload.dict()``: every field, the
    defaults filled in) when the schema takes it as it is; None otherwise."""
    sku_id, qty = data.get("sku_id"), data.get("qty", 1)
    if not _id(sku_id) or type(qty) is not int or not 1 <= qty <= 999:
        return None
    address_id, coupon_id = data.get("address_id"), data.get("coupon_id")
    if any(value is not None and not _id(value) for value in (address_id, coupon_id)):
        return None
    points = data.get("points", 0)
    if type(points) is not int or not 0 <= points <= 100_000_000:
        return None
    share_token = data.get("share_token")
    if share_token is not None and (type(share_token) is not str or len(share_token) > 40):
        return None
    return {
        "sku_id": sku_id,
        "qty": qty,
        "address_id": address_id,
        "coupon_id": coupon_id,
        "points": points,
        "share_token": share_token,
    }


def group_join_refused(request) -> tuple[int, dict[str, Any]] | None:
    from quanzi.core.errors import NotFound
    from quanzi.core.idempotency import refusal_remember
    from quanzi.groupbuy.channel import group_check_joinable, group_with_holders

    key = request.environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None and not 1 <= len(key) <= 128:
        return None
    body = join_body(request.data)
    if body is None:
        return None
    user = request.bearer_user()
    if user is None:
        return None
    request.auth = user
    group_id = int(request.match.group(1))
    group, holders = group_with_holders(group_id)
    try:
        if group is None:
            raise NotFound("group_not_found", "no such group")
        group_check_joinable(group, user_id=user.pk, holders=holders)
    except QuanziError as exc:
        if exc.code == "already_joined":
            return None
        route = f"POST /groups/{group_id}/join"
        if key and not refusal_remember(
            user_id=user.pk, key=key, route=route, body=body, error=exc
        ):
            return None
        return exc.status, exc.as_dict()
    return None  # the place may be free: the API takes it


def register() -> None:
    from quanzi.core import fastpaths

    fastpaths.register("POST", PATH, group_join_refused)
