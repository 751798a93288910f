"""Pre-sale invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, F, Q

from quanzi.ledger.checks import invariant
from quanzi.orders.models import OrderLine
from quanzi.orders.models import Status as S
from quanzi.presale.models import Booking, BookingStatus, Presale, Proposal

LIMIT = 20


@invariant("proposal vote counts equal their votes")
def _votes_exact() -> Iterator[str]:
    bad = Proposal.objects.annotate(rows=Count("vote_rows")).exclude(votes=F("rows"))
    for proposal in bad[:LIMIT]:
        yield f"proposal {proposal.pk} counts {proposal.votes} votes, has {proposal.rows}"


@invariant("pre-sale bookings hold sane units")
def _booking_units() -> Iterator[str]:
    closed = [BookingStatus.CANCELLED, BookingStatus.FORFEITED]
    bad = Booking.objects.filter(
        Q(units_held__gt=F("qty")) | Q(status__in=closed, units_held__gt=0)
    )
    for booking in bad[:LIMIT]:
        yield f"booking {booking.pk} ({booking.status}) holds {booking.units_held} of {booking.qty}"


@invariant("pre-sale paid units equal what their orders kept")
def _paid_units() -> Iterator[str]:
    kept: dict[int, int] = defaultdict(int)
    rows = (
        OrderLine.objects.filter(order__presale_first__isnull=False, order__paid_at__isnull=False)
        .exclude(order__status=S.CANCELLED)
        .values_list("order__presale_first__presale_id", "qty", "refunded_qty")
    )
    for presale_id, qty, refunded in rows.iterator():
        kept[presale_id] += qty - refunded
    shown = 0
    for presale_id, paid in Presale.objects.values_list("id", "paid_units").iterator():
        if kept[presale_id] != paid:
            yield f"presale {presale_id} counts {paid} paid units, its orders kept {kept[presale_id]}"
            shown += 1
            if shown >= LIMIT:
                return


@invariant("pre-sale orders have their booking")
def _orders_linked() -> Iterator[str]:
    known = set(Booking.objects.values_list("first_order_id", flat=True)) | set(
        Booking.objects.exclude(balance_order=None).values_list("balance_order_id", flat=True)
    )
    cancelled_balances = OrderLine.objects.filter(
        order__channel="presale", order__channel_ref__endswith=":balance",
        order__status=S.CANCELLED,
    ).values_list("order_id", flat=True)  # fmt: skip
    orders = set(
        OrderLine.objects.filter(order__channel="presale").values_list("order_id", flat=True)
    ) - set(cancelled_balances)
    for order_id in sorted(orders - known)[:LIMIT]:
        yield f"pre-sale order {order_id} has no booking"
