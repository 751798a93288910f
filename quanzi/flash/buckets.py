"""The database's units left, split over an item's bucket rows.

A buyer's units come from the bucket its id hashes to (one conditional ``UPDATE … WHERE
left >= qty``); when that bucket cannot give them, the other buckets are scanned, one
unit at a time. A row is locked only by the buyers who hit it, so N buckets take up to
N buyers at once, and the rows' ``CHECK (left >= 0)`` makes overselling impossible.
"""

from __future__ import annotations

import zlib

from django.db.models import F, Sum

from quanzi.catalog.services import OutOfStock
from quanzi.core.sql import take_if_enough
from quanzi.flash.models import FlashBucket, FlashItem


def split(total: int, n: int) -> list[int]:
    """``total`` units over ``n`` buckets, the first ones one larger."""
    n = max(1, min(n, total or 1))
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def home(user_id: int, n: int) -> int:
    return zlib.crc32(str(user_id).encode()) % n


def _take_from(item_id: int, index: int, qty: int) -> bool:
    # Written out: the ORM's filter().update() cost more in Python than the row's update
    # in the database (the batch writer runs it once per order).
    return take_if_enough(
        FlashBucket, column="left", qty=qty, where={"item_id": item_id, "index": index}
    )


def take(*, item: FlashItem, user_id: int, qty: int, buckets: int) -> dict[str, int]:
    """Take ``qty`` units; returns bucket index → units. Raises ``OutOfStock`` (the
    caller's transaction rolls back what was taken)."""
    start = home(user_id, buckets)
    if _take_from(item.pk, start, qty):
        return {str(start): qty}
    takes: dict[str, int] = {}
    need = qty
    candidates = (
        FlashBucket.objects.filter(item_id=item.pk, left__gt=0)
        .order_by("index")
        .values_list("index", "left")
    )
    ordered = sorted(candidates, key=lambda row: (row[0] - start) % buckets)
    for index, seen_left in ordered:
        while need and seen_left > 0:
            want = min(need, seen_left)
            if _take_from(item.pk, index, want):
                takes[str(index)] = takes.get(str(index), 0) + want
                need -= want
                seen_left -= want
            elif want > 1:
                seen_left = want - 1  # someone took some meanwhile: ask for less
            else:
                break
        if not need:
            return takes
    raise OutOfStock("out_of_stock", "sold out", {"sku_id": item.sku_id})


def give_back(*, item_id: int, takes: dict[str, int]) -> None:
    for index in sorted(takes, key=int):
        FlashBucket.objects.filter(item_id=item_id, index=int(index)).update(
            left=F("left") + takes[index]
        )


def left_of(item_ids: list[int]) -> dict[int, int]:
    rows = (
        FlashBucket.objects.filter(item_id__in=item_ids)
        .values_list("item_id")
        .annotate(units=Sum("left"))
        .values_list("item_id", "units")
    )
    out = dict.fromkeys(item_ids, 0)
    out.update({item_id: units or 0 for item_id, units in rows})
    return out
