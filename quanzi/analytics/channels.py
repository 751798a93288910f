"""Which analytics channel and which shop / leader / creator an order belongs to.

The order's own channel names the selling mechanic (``group``, ``bargain``,
``membership``, ``community``, ``lottery``); a plain checkout is ``note`` when a note's
creator earns on it, ``share`` when it came through a share link, ``direct`` otherwise.
Circles and partners are not in the data yet, so they have no channel here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

CHANNELS = ["direct", "share", "group", "bargain", "membership", "community", "note", "lottery"]
DIMS = ["shop", "leader", "creator"]
MECHANICS = {"group", "bargain", "membership", "community", "lottery"}


def order_channel(*, channel: str, share_token: str, has_creator: bool) -> str:
    if channel in MECHANICS:
        return channel
    if has_creator:
        return "note"
    if share_token:
        return "share"
    return "direct"


def order_dims(order_ids: Iterable[int], share_tokens: dict[int, str]) -> dict[int, list]:
    """For each order id: [(dim, id), …] — the shop whose link it came through, the
    community leader who serves it, the creators whose notes it is attributed to."""
    from quanzi.community.models import CommunityOrder
    from quanzi.content.models import CreatorCommission
    from quanzi.distribution.models import Shop

    ids = list(order_ids)
    dims: dict[int, list] = defaultdict(list)
    tokens = {t for t in share_tokens.values() if t}
    shops = (
        dict(
            Shop.objects.filter(share_token__in=tokens)
            .exclude(share_token="")
            .values_list("share_token", "pk")
        )
        if tokens
        else {}
    )
    for order_id, token in share_tokens.items():
        if token in shops:
            dims[order_id].append(("shop", shops[token]))
    for chunk in _chunks(ids):
        for order_id, leader_id in CommunityOrder.objects.filter(order_id__in=chunk).values_list(
            "order_id", "leader_id"
        ):
            dims[order_id].append(("leader", leader_id))
        seen = set()
        for order_id, creator_id in CreatorCommission.objects.filter(
            order_id__in=chunk
        ).values_list("order_id", "creator_id"):
            if (order_id, creator_id) not in seen:
                seen.add((order_id, creator_id))
                dims[order_id].append(("creator", creator_id))
    return dims


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
