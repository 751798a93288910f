"""Which analytics channel and which shop / leader / creator an order belongs to.

An order placed through a circle's deal (a ``circles.Sale``) is in the ``circle``
channel; otherwise the order's own channel names the selling mechanic (``group``,
``bargain``, ``membership``, ``community``, ``lottery``, ``partner``); a plain checkout is
``note`` when a note's creator earns on it, ``share`` when it came through a share link,
``direct`` otherwise. Its dimensions: the shop whose link it came through, the community
leader serving it, the creators of the notes it is attributed to, the circle whose deal
it was placed through and the partner whose user bought at a partner price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

CHANNELS = [
    "direct",
    "share",
    "group",
    "bargain",
    "membership",
    "community",
    "note",
    "lottery",
    "circle",
    "partner",
]
DIMS = ["shop", "leader", "creator", "circle", "partner"]
MECHANICS = {"group", "bargain", "membership", "community", "lottery", "partner"}


def order_channel(
    *, channel: str, share_token: str, has_creator: bool, has_circle: bool = False
) -> str:
    if has_circle:
        return "circle"
    if channel in MECHANICS:
        return channel
    if has_creator:
        return "note"
    if share_token:
        return "share"
    return "direct"


def order_dims(order_ids: Iterable[int], share_tokens: dict[int, str]) -> dict[int, list]:
    """For each order id: [(dim, id), …] — the shop whose link it came through, the
    community leader who serves it, the creators whose notes it is attributed to, the
    circle whose deal it was placed through, the partner it was sold at the price of."""
    from django.apps import apps

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
        if apps.is_installed("quanzi.circles"):
            from quanzi.circles.models import Sale

            for order_id, circle_id in Sale.objects.filter(order_id__in=chunk).values_list(
                "order_id", "circle_id"
            ):
                dims[order_id].append(("circle", circle_id))
        if apps.is_installed("quanzi.partners"):
            from quanzi.partners.models import PartnerOrder

            for order_id, partner_id in PartnerOrder.objects.filter(order_id__in=chunk).values_list(
                "order_id", "partner_id"
            ):
                dims[order_id].append(("partner", partner_id))
    return dims


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
