"""Creator attribution (CPS): a sale a note brought pays the note's creator.

**Touches.** A buyer touches a note when it opens it while known (the note page, the
API's note detail) and when it opened a share link of the note (the share visit, also
one made before signing up and claimed at sign-up).

**Which note, which line.** When an order is paid, each line looks for the buyer's
touches in the window ``[placed − content.attribution_days, placed]`` on public notes
that tag the line's product; the latest touch wins (last touch). The note's author earns
if it is an approved creator and not the buyer.

**How much.** ``line.paid × content.creator_rate_bp``, one amount to one person: the
creator's commission is not a level and is never passed up (the creator's referrer earns
nothing on it). It fits in what the line's distribution commissions (levels 1 and 2,
computed first) leave of ``distribution.max_commission_share_bp``; a creator who already
earns a distribution commission on the same line (the buyer is bound to it) gets only
what tops that up to the creator rate. The attributed line is recorded even when the
creator commission is 0, so the creator centre counts the sale. So an
order line pays at most: the buyer's referrer (level 1), that referrer's referrer
(level 2), and the creator — never a third level of any chain, and never more than the
cap together. Orders with ``commission_enabled`` off and membership fees pay nothing.

**Money.** Exactly like distribution commissions: frozen at payment (records only),
reversed in proportion by refunds before settlement, paid at settlement out of the order's
money into ``user:<id>:commission_available`` (withdrawn with the same withdrawals),
clawed back after settlement (entry kind ``creator_commission_clawback``: the creator's
available balance is debited, the platform's revenue credited — also below zero, a debt
paid by later earnings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from quanzi.core.logging import get_logger
from quanzi.core.money import apply_bp
from quanzi.core.platform_settings import get_settings
from quanzi.core.sql import rows_of, rows_update
from quanzi.distribution import books
from quanzi.distribution.distributors import MEMBERSHIP_CHANNEL
from quanzi.distribution.models import Commission
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.channels import OrderObserver

from .models import (
    CreatorClawback,
    CreatorCommission,
    CreatorStatus,
    NoteProduct,
    NoteStatus,
    NoteTouch,
    Visibility,
)

log = get_logger("quanzi.content.attribution")

CLAWBACK_KIND = "creator_commission_clawback"


def _touched(buyer_id: int, start, end) -> bool:
    """Whether the buyer has any touch in [start, end] (one statement, no ORM)."""
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    at = NoteTouch._meta.get_field("at")
    bounds = [at.get_db_prep_value(start, conn), at.get_db_prep_value(end, conn)]
    exists = [
        f"EXISTS (SELECT 1 FROM {quote(NoteTouch._meta.db_table)}"
        " WHERE user_id = %s AND at >= %s AND at <= %s)"
    ]
    params = [buyer_id, *bounds]
    try:
        from quanzi.social.models import ShareLink, ShareVisit
    except ImportError:  # pragma: no cover
        pass
    else:
        exists.append(
            f"EXISTS (SELECT 1 FROM {quote(ShareVisit._meta.db_table)} v"
            f" JOIN {quote(ShareLink._meta.db_table)} l ON l.id = v.link_id"
            " WHERE v.visitor_id = %s AND l.target = 'note'"
            " AND v.last_at >= %s AND v.last_at <= %s)"
        )
        params += [buyer_id, *bounds]
    return bool(rows_of(f"SELECT 1 WHERE {' OR '.join(exists)}", params))


def _touches(buyer_id: int, start, end) -> list[tuple]:
    """(at, note_id) of the buyer's touches in [start, end]: note opens and share visits."""
    touches = list(
        NoteTouch.objects.filter(user_id=buyer_id, at__gte=start, at__lte=end).values_list(
            "at", "note_id"
        )
    )
    try:
        from quanzi.social.models import ShareVisit
    except ImportError:  # pragma: no cover
        return touches
    touches += list(
        ShareVisit.objects.filter(
            visitor_id=buyer_id, link__target="note", last_at__gte=start, last_at__lte=end
        ).values_list("last_at", "link__target_id")
    )
    return touches


def creator_commissions_create(*, order) -> list[CreatorCommission]:
    settings = get_settings()
    rate = settings.content.creator_rate_bp
    if rate <= 0 or not order.commission_enabled or order.channel == MEMBERSHIP_CHANNEL:
        return []
    placed = order.created_at
    start = placed - timedelta(days=settings.content.attribution_days)
    # Most buyers opened no note: one written-out statement says so.
    if not _touched(order.user_id, start, placed):
        return []
    if CreatorCommission.objects.filter(order=order).exists():
        return []  # the same payment seen twice
    touches = _touches(order.user_id, start, placed)
    if not touches:
        return []
    latest: dict[int, object] = {}
    for at, note_id in touches:
        if note_id not in latest or at > latest[note_id]:
            latest[note_id] = at
    lines = sorted(order.lines.all(), key=lambda line: line.pk)  # prefetched by the capture
    tags = (
        NoteProduct.objects.filter(
            note_id__in=list(latest),
            product_id__in=[line.product_id for line in lines],
            note__status=NoteStatus.PUBLISHED,
            note__visibility=Visibility.VISIBLE,
            note__author__creator__status=CreatorStatus.APPROVED,
        )
        .exclude(note__author_id=order.user_id)
        .values_list("product_id", "note_id", "note__author_id")
    )
    best: dict[int, tuple] = {}  # product -> (touched_at, note_id, creator_id)
    for product_id, note_id, creator_id in tags:
        candidate = (latest[note_id], note_id, creator_id)
        if product_id not in best or candidate > best[product_id]:
            best[product_id] = candidate
    if not best:
        return []
    distribution: dict[int, int] = defaultdict(int)
    earned: dict[tuple[int, int], int] = defaultdict(int)
    for line_id, beneficiary_id, amount in Commission.objects.filter(order=order).values_list(
        "line_id", "beneficiary_id", "amount"
    ):
        distribution[line_id] += amount
        earned[(line_id, beneficiary_id)] += amount
    created = []
    for line in lines:
        if line.product_id not in best:
            continue
        touched_at, note_id, creator_id = best[line.product_id]
        # A creator already paid on this line as a distributor (the friend it brought
        # is bound to it) only gets what tops that up to the creator rate.
        amount = max(0, apply_bp(line.paid, rate) - earned[(line.pk, creator_id)])
        room = (
            apply_bp(line.paid, settings.distribution.max_commission_share_bp)
            - distribution[line.pk]
        )
        capped = amount > room
        amount = max(0, min(amount, room))
        # Recorded even at 0: the sale is the note's (the creator centre counts it).
        created.append(
            CreatorCommission(
                order=order,
                line=line,
                note_id=note_id,
                creator_id=creator_id,
                buyer_id=order.user_id,
                touched_at=touched_at,
                base=line.paid,
                rate_bp=rate,
                capped=capped,
                amount=amount,
            )
        )
    CreatorCommission.objects.bulk_create(created)
    if created:
        log.info(
            "creator commissions frozen",
            extra={
                "order_id": order.pk,
                "commissions": [(c.creator_id, c.note_id, c.amount) for c in created],
            },
        )
    return created


def creator_commissions_reverse(*, order, refund) -> int:
    from quanzi.orders.models import OrderLine

    line_ids = sorted({part["line_id"] for part in refund.lines})
    if not line_ids:
        return 0
    lines = {line.pk: line for line in OrderLine.objects.filter(pk__in=line_ids)}
    commissions = list(
        CreatorCommission.objects.select_for_update().filter(line_id__in=line_ids).order_by("id")
    )
    clawbacks: dict[int, int] = defaultdict(int)
    total = 0
    for commission in commissions:
        target = lines[commission.line_id].share_taken_back(commission.amount)
        delta = target - commission.reversed_amount
        if delta <= 0:
            continue
        settled = commission.settled_at is not None
        CreatorClawback.objects.create(
            commission=commission, refund_id=refund.pk, amount=delta, after_settlement=settled
        )
        commission.reversed_amount = target
        commission.save(update_fields=["reversed_amount"])
        total += delta
        if settled:
            clawbacks[commission.creator_id] += delta
    if clawbacks:
        legs = [books.available_leg(uid, amount) for uid, amount in sorted(clawbacks.items())]
        legs.append(Leg(chart.PLATFORM_REVENUE, -sum(clawbacks.values())))
        entry_post(
            key=f"creator_clawback:{refund.pk}",
            kind=CLAWBACK_KIND,
            legs=legs,
            order_id=order.pk,
            refund_id=refund.pk,
            memo="creator commission reversed after settlement",
        )
    if total:
        log.info(
            "creator commissions reversed",
            extra={"order_id": order.pk, "refund_id": refund.pk, "amount": total},
        )
    return total


def _unsettled(orders: Sequence) -> dict[int, list[CreatorCommission]]:
    grouped: dict[int, list[CreatorCommission]] = defaultdict(list)
    for commission in (
        CreatorCommission.objects.select_for_update()
        .filter(order_id__in=[o.pk for o in orders], settled_at__isnull=True)
        .order_by("id")
    ):
        grouped[commission.order_id].append(commission)
    return grouped


def settlement_legs_for(orders: Sequence) -> dict[int, list[Leg]]:
    unsettled = _unsettled(orders)
    legs: dict[int, list[Leg]] = {}
    for order in orders:
        totals: dict[int, int] = defaultdict(int)
        for commission in unsettled.get(order.pk, ()):
            if commission.net > 0:
                totals[commission.creator_id] += commission.net
        legs[order.pk] = [
            books.available_leg(uid, -amount) for uid, amount in sorted(totals.items())
        ]
    return legs


def creator_commissions_settle(*, orders: Sequence) -> None:
    """Mark the chunk's commissions settled: one read and one write, whatever its size."""
    now = timezone.now()
    settled_at = {order.pk: order.settled_at or now for order in orders}
    rows = [
        (pk, settled_at[order_id])
        for pk, order_id in CreatorCommission.objects.filter(
            order_id__in=list(settled_at), settled_at__isnull=True
        ).values_list("pk", "order_id")
    ]
    rows_update(CreatorCommission, fields=["settled_at"], rows=rows)


def settled_net_by_creator() -> dict[int, int]:
    """What each creator's settled commissions put in its balance (for the ledger check)."""
    return {
        uid: int(total or 0)
        for uid, total in CreatorCommission.objects.filter(settled_at__isnull=False)
        .values_list("creator_id")
        .annotate(total=Sum(F("amount") - F("reversed_amount")))
        .values_list("creator_id", "total")
    }


class ContentObserver(OrderObserver):
    """Plugs creator commissions and review points into every order."""

    def on_paid(self, order) -> None:
        creator_commissions_create(order=order)

    def on_refund_succeeded(self, order, refund) -> None:
        creator_commissions_reverse(order=order, refund=refund)
        from .reviews import reviews_on_refund

        reviews_on_refund(order=order)

    def settlement_legs_many(self, orders, net_lines) -> dict[int, list[Leg]]:
        return settlement_legs_for(orders)

    def on_settled_many(self, orders) -> None:
        creator_commissions_settle(orders=orders)
