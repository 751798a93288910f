"""Content invariants for ``quanzi ledger check``: creator commissions stay within what
they earned, settle with their orders, and their claw-backs are booked."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import F, Sum

from quanzi.content.attribution import CLAWBACK_KIND
from quanzi.content.models import CreatorClawback, CreatorCommission
from quanzi.ledger.checks import invariant
from quanzi.ledger.models import Posting


@invariant("creator commissions settle with their orders and never pay the buyer")
def _creator_commissions() -> Iterator[str]:
    for c in CreatorCommission.objects.filter(creator_id=F("buyer_id"))[:20]:
        yield f"creator commission {c.pk} pays the buyer of its own order"
    for c in CreatorCommission.objects.filter(
        settled_at__isnull=True, order__settled_at__isnull=False
    )[:20]:
        yield f"creator commission {c.pk}: its order settled but the commission did not"


@invariant("creator commission claw-backs are booked")
def _creator_clawbacks() -> Iterator[str]:
    booked = {
        refund_id: -int(total or 0)
        for refund_id, total in Posting.objects.filter(
            entry__kind=CLAWBACK_KIND, account__code="platform_revenue"
        )
        .values_list("entry__refund_id")
        .annotate(total=Sum("amount"))
    }
    expected = {
        refund_id: int(total or 0)
        for refund_id, total in CreatorClawback.objects.filter(after_settlement=True)
        .values_list("refund_id")
        .annotate(total=Sum("amount"))
    }
    for refund_id in sorted(set(booked) | set(expected)):
        if booked.get(refund_id, 0) != expected.get(refund_id, 0):
            yield (
                f"refund {refund_id}: creator claw-back booked {booked.get(refund_id, 0)}, "
                f"reversed after settlement {expected.get(refund_id, 0)}"
            )
    reversed_sums = dict(
        CreatorClawback.objects.values_list("commission_id")
        .annotate(total=Sum("amount"))
        .values_list("commission_id", "total")
    )
    for c in CreatorCommission.objects.filter(reversed_amount__gt=0):
        if reversed_sums.get(c.pk, 0) != c.reversed_amount:
            yield f"creator commission {c.pk} reversed {c.reversed_amount}, its claw-backs sum to {reversed_sums.get(c.pk, 0)}"
