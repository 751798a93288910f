"""Coupon and points invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from quanzi.ledger.checks import invariant
from quanzi.ledger.models import POINTS, Account, JournalEntry, Posting
from quanzi.marketing.models import Coupon, CouponStatus, CouponTemplate, PointsLot, PointsTxn
from quanzi.marketing.observer import COUPON_SUBSIDY, POINTS_SUBSIDY, subsidies


@invariant("points: ledger, movements and lots agree per user")
def _points_agree() -> Iterator[str]:
    ledger = {
        account.user_id: -account.balance
        for account in Account.objects.filter(
            code__startswith="user:", code__endswith=":points", unit=POINTS
        )
    }
    moved = dict(
        PointsTxn.objects.values_list("user_id")
        .annotate(t=Sum("amount"))
        .values_list("user_id", "t")
    )
    lots = dict(
        PointsLot.objects.values_list("user_id")
        .annotate(t=Sum("remaining"))
        .values_list("user_id", "t")
    )
    for user_id in sorted(set(ledger) | set(moved) | set(lots)):
        a, b, c = ledger.get(user_id, 0), moved.get(user_id, 0) or 0, lots.get(user_id, 0) or 0
        if not a == b == c:
            yield f"user {user_id}: ledger holds {a} points, movements sum to {b}, lots to {c}"


@invariant("points: an order's returns and claw-backs stay within what it spent and earned")
def _points_within() -> Iterator[str]:
    per_order: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        PointsTxn.objects.filter(order_id__isnull=False)
        .values_list("order_id", "kind")
        .annotate(amount=Sum("amount"), claimed=Sum("claimed"))
    )
    for order_id, kind, amount, claimed in rows:
        per_order[order_id][kind] += claimed if kind == "clawback" else amount
    for order_id, kinds in sorted(per_order.items()):
        if kinds.get("spend_return", 0) > -kinds.get("spend", 0):
            yield f"order {order_id} returned more points than it spent"
        if kinds.get("clawback", 0) > kinds.get("earn", 0):
            yield f"order {order_id} clawed back more points than it earned"


@invariant("coupons: issued counters match the copies and stay within the total")
def _coupons_issued() -> Iterator[str]:
    held = dict(
        Coupon.objects.values_list("template_id")
        .annotate(n=Count("id"))
        .values_list("template_id", "n")
    )
    for template in CouponTemplate.objects.all():
        n = held.get(template.pk, 0)
        if template.issued != n or template.issued > template.total:
            yield (
                f"coupon template {template.pk}: issued {template.issued} of {template.total}, "
                f"but {n} copies exist"
            )


@invariant("coupons: a used coupon belongs to one live order that names it")
def _coupons_used() -> Iterator[str]:
    from quanzi.orders.models import Order

    named = Order.objects.filter(pk=OuterRef("order_id"), coupon_id=OuterRef("pk")).exclude(
        status="cancelled"
    )
    for coupon_id, order_id in (
        Coupon.objects.filter(status=CouponStatus.USED)
        .annotate(named=Exists(named))
        .filter(named=False)
        .values_list("id", "order_id")[:20]
    ):
        yield f"coupon {coupon_id} is used by order {order_id}, which does not name it (or is cancelled)"
    held = Coupon.objects.filter(
        pk=OuterRef("coupon_id"), status=CouponStatus.USED, order_id=OuterRef("pk")
    )
    for order_id, coupon_id in (
        Order.objects.filter(coupon_id__isnull=False)
        .exclude(status="cancelled")
        .exclude(status="refunded", shipped_at__isnull=True)
        .annotate(held=Exists(held))
        .filter(held=False)
        .values_list("id", "coupon_id")[:20]
    ):
        yield f"order {order_id} names coupon {coupon_id}, which is not used by it"


@invariant("coupons and points: every settled discount has its subsidy booked")
def _subsidies_booked() -> Iterator[str]:
    from quanzi.orders.models import Order, OrderLine, Refund

    booked: dict[tuple[int, str], int] = defaultdict(int)
    for order_id, code, amount in Posting.objects.filter(
        entry__kind="settlement", account__code__in=[COUPON_SUBSIDY, POINTS_SUBSIDY]
    ).values_list("entry__order_id", "account__code", "amount"):
        booked[(order_id, code)] += amount
    discounted = OrderLine.objects.filter(order_id=OuterRef("pk")).filter(
        Q(coupon_discount__gt=0) | Q(points_discount__gt=0)
    )
    settlement = JournalEntry.objects.filter(kind="settlement", order_id=OuterRef("pk"))
    ids = list(
        Order.objects.filter(Exists(discounted), Exists(settlement))
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        settled_at_entry = dict(
            JournalEntry.objects.filter(kind="settlement", order_id__in=chunk).values_list(
                "order_id", "id"
            )
        )
        refund_entry = dict(
            JournalEntry.objects.filter(kind="refund", order_id__in=chunk).values_list(
                "refund_id", "id"
            )
        )
        refunds = defaultdict(list)
        for refund in Refund.objects.filter(order_id__in=chunk, status="succeeded"):
            refunds[refund.order_id].append(refund)
        lines = defaultdict(list)
        for line in OrderLine.objects.filter(order_id__in=chunk):
            lines[line.order_id].append(line)
        for order_id in chunk:
            # Units refunded before the settlement entry was written are not subsidized.
            refunded_before: dict[int, int] = defaultdict(int)
            for refund in refunds[order_id]:
                if refund_entry.get(refund.pk, 0) < settled_at_entry[order_id]:
                    for part in refund.lines:
                        refunded_before[part["line_id"]] += part["qty"]
            kept = {line.pk: line.qty - refunded_before[line.pk] for line in lines[order_id]}
            coupon, pts = subsidies(lines[order_id], kept)
            if booked.pop((order_id, COUPON_SUBSIDY), 0) != coupon:
                yield f"order {order_id}: coupon subsidy of {coupon} not booked at settlement"
            if booked.pop((order_id, POINTS_SUBSIDY), 0) != pts:
                yield f"order {order_id}: points subsidy of {pts} not booked at settlement"
    for (order_id, code), amount in sorted(booked.items()):
        if amount:
            yield f"order {order_id}: {code} {amount} booked without a discount to match"


@invariant("points lots and used coupons stay within their bounds")
def _lots_sane() -> Iterator[str]:
    for lot in PointsLot.objects.filter(Q(remaining__lt=0) | Q(remaining__gt=F("amount")))[:20]:
        yield f"points lot {lot.pk} holds {lot.remaining} of {lot.amount}"
    for coupon in Coupon.objects.filter(status=CouponStatus.USED, order_id__isnull=True)[:20]:
        yield f"coupon {coupon.pk} is used without an order"
