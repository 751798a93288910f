"""Flash sale invariant for ``quanzi ledger check``: per item, units sold (orders not
cancelled) + units left in the buckets + units sent back to the shelf = the allotment."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Sum

from quanzi.flash.models import FlashBucket, FlashItem, FlashOrder
from quanzi.ledger.checks import invariant


@invariant("flash sale units are conserved")
def _units_conserved() -> Iterator[str]:
    sold = dict(
        FlashOrder.objects.filter(returned=False)
        .values_list("item_id")
        .annotate(n=Sum("qty"))
        .values_list("item_id", "n")
    )
    left = dict(
        FlashBucket.objects.values_list("item_id")
        .annotate(n=Sum("left"))
        .values_list("item_id", "n")
    )
    for item_id, allotment, returned in FlashItem.objects.values_list(
        "id", "allotment", "returned"
    ):
        s, l_ = sold.get(item_id, 0), left.get(item_id, 0)
        if s + l_ + returned != allotment:
            yield f"flash item {item_id}: sold {s} + left {l_} + returned {returned} != {allotment}"
