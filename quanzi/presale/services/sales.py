"""Pre-sales (预售): the operator creates them (from a winning proposal or for a SKU),
people book them through the ``presale`` channel, and sweeps close them.

* Deposit mode: the deposit order, then the balance order in the balance window. At the
  window's end a booking whose balance is unpaid is closed by the pre-sale's rule:
  ``forfeit`` (the deposit order is closed and settled at once: the deposit is booked
  to platform revenue) or ``refund`` (the deposit goes back along its payment's path).
* Threshold mode: full-price orders that wait (``may_ship`` is false) until the paid
  units reach the threshold; at the deadline, a sale below it fails and every payment is
  refunded, every unpaid order cancelled (units and coupons come back).
* A cancelled pre-sale unwinds like a failed one: deposits and unshipped orders are
  refunded, unpaid orders cancelled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.core.errors import Conflict, Invalid, NotFound, QuanziError
from quanzi.core.logging import get_logger
from quanzi.core.tasks import enqueue
from quanzi.orders.models import Order, Refund, RefundStatus
from quanzi.orders.models import Status as S
from quanzi.presale.channel import NAME
from quanzi.presale.models import (
    Booking,
    BookingStatus,
    Mode,
    Presale,
    PresaleStatus,
    Proposal,
    ProposalStatus,
    UnpaidRule,
    Vote,
    VoterGrant,
)

log = get_logger("quanzi.presale")

OPEN_REFUND = (RefundStatus.REQUESTED, RefundStatus.APPROVED)


def _need(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise Invalid("invalid_presale", message, {"field": field})


def presale_create(
    *,
    mode: str,
    price: int,
    starts_at: datetime,
    sku_id: int | None = None,
    proposal_id: int | None = None,
    title: str = "",
    per_user_limit: int = 0,
    early_starts_at: datetime | None = None,
    voter_coupon_template_id: int | None = None,
    deposit: int = 0,
    deposit_value: int | None = None,
    balance_starts_at: datetime | None = None,
    balance_ends_at: datetime | None = None,
    unpaid_rule: str = UnpaidRule.FORFEIT,
    threshold_units: int = 0,
    deadline: datetime | None = None,
) -> Presale:
    _need(mode in Mode.values, "mode", "mode is deposit or threshold")
    _need(unpaid_rule in UnpaidRule.values, "unpaid_rule", "forfeit or refund")
    sku = SKU.objects.select_related("product").filter(pk=sku_id).first() if sku_id else None
    if sku is None:
        raise NotFound("sku_not_found", "no such item")
    _need(price >= 1, "price", "a pre-sale has a price")
    if early_starts_at is not None:
        _need(proposal_id is not None, "early_starts_at", "early access is for voters")
        _need(early_starts_at < starts_at, "early_starts_at", "early access opens first")
    if mode == Mode.DEPOSIT:
        deposit_value = deposit if deposit_value is None else deposit_value
        _need(1 <= deposit < price, "deposit", "a deposit is less than the price")
        _need(deposit <= deposit_value <= price, "deposit_value", "deposit ≤ value ≤ price")
        _need(
            balance_starts_at is not None and balance_ends_at is not None,
            "balance_starts_at",
            "a deposit pre-sale has a balance window",
        )
        _need(starts_at < balance_starts_at, "balance_starts_at", "deposits come first")
        _need(balance_starts_at < balance_ends_at, "balance_ends_at", "the window is empty")
        threshold_units, deadline = 0, None
    else:
        _need(threshold_units >= 1, "threshold_units", "the threshold is at least 1 unit")
        _need(deadline is not None and deadline > starts_at, "deadline", "after the start")
        deposit, deposit_value, balance_starts_at, balance_ends_at = 0, 0, None, None
    with transaction.atomic():
        proposal = None
        if proposal_id is not None:
            proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
            if proposal is None:
                raise NotFound("proposal_not_found", "no such proposal")
            if proposal.status not in (ProposalStatus.OPEN, ProposalStatus.ACCEPTED):
                raise Conflict("proposal_decided", "this proposal cannot become a pre-sale")
            proposal.status = ProposalStatus.PRESALE
            proposal.decided_at = proposal.decided_at or timezone.now()
            proposal.save(update_fields=["status", "decided_at"])
        if voter_coupon_template_id is not None:
            from quanzi.marketing.models import CouponTemplate

            if not CouponTemplate.objects.filter(pk=voter_coupon_template_id).exists():
                raise NotFound("coupon_template_not_found", "no such coupon template")
            _need(proposal is not None, "voter_coupon_template_id", "voters come from a proposal")
        presale = Presale.objects.create(
            proposal=proposal,
            sku=sku,
            title=(title or (proposal.title if proposal else sku.product.title))[:120],
            mode=mode,
            price=price,
            per_user_limit=per_user_limit,
            starts_at=starts_at,
            early_starts_at=early_starts_at,
            voter_coupon_template_id=voter_coupon_template_id,
            deposit=deposit,
            deposit_value=deposit_value or 0,
            balance_starts_at=balance_starts_at,
            balance_ends_at=balance_ends_at,
            unpaid_rule=unpaid_rule,
            threshold_units=threshold_units,
            deadline=deadline,
        )
        if voter_coupon_template_id is not None:
            enqueue("quanzi.presale.services.sales.voter_coupons_grant", presale_id=presale.pk)
    log.info("presale created", extra={"presale_id": presale.pk, "mode": mode})
    return presale


def voter_coupons_grant(*, presale_id: int) -> int:
    """Give each voter of the source proposal the pre-sale's coupon, once (idempotent: a
    ``VoterGrant`` row per voter, written with the coupon). Returns how many were given."""
    from quanzi.marketing.services import coupon_grant

    presale = Presale.objects.filter(pk=presale_id).first()
    if presale is None or presale.voter_coupon_template_id is None or not presale.proposal_id:
        return 0
    done = set(VoterGrant.objects.filter(presale=presale).values_list("user_id", flat=True))
    voters = (
        Vote.objects.filter(proposal_id=presale.proposal_id)
        .exclude(user_id__in=done)
        .select_related("user")
        .order_by("id")
    )
    given = 0
    for vote in voters:
        try:
            with transaction.atomic():
                grant, created = VoterGrant.objects.get_or_create(presale=presale, user=vote.user)
                if not created:
                    continue
                coupon = coupon_grant(
                    user=vote.user,
                    template_id=presale.voter_coupon_template_id,
                    source=f"presale:{presale.pk}",
                )
                grant.coupon_id = coupon.pk
                grant.save(update_fields=["coupon_id"])
                given += 1
        except QuanziError as exc:
            VoterGrant.objects.get_or_create(
                presale=presale, user=vote.user, defaults={"failure": exc.code}
            )
            log.warning(
                "voter coupon not given",
                extra={"presale_id": presale.pk, "user_id": vote.user_id, "code": exc.code},
            )
    return given


def presale_order(
    *,
    user,
    presale_id: int,
    phase: str,
    qty: int = 1,
    booking_id: int | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
    gateway: str | None = None,
    note: str = "",
) -> tuple[Order, Any]:
    """Place (and with ``gateway`` start paying) a deposit, balance or full-price order
    through the order pipeline. Returns ``(order, payment or None)``."""
    from quanzi.orders.services import order_place
    from quanzi.payments.services import order_checkout

    presale = Presale.objects.filter(pk=presale_id).first()
    if presale is None:
        raise NotFound("presale_not_found", "no such pre-sale")
    if phase == "balance":
        booking = Booking.objects.filter(pk=booking_id, presale=presale, user=user).first()
        if booking is None:
            raise NotFound("booking_not_found", "no such deposit")
        qty = booking.qty
    place = {
        "user": user,
        "items": [{"sku_id": presale.sku_id, "qty": qty}],
        "address_id": address_id,
        "coupon_id": coupon_id,
        "note": note,
        "channel": NAME,
        "extra": {"presale_id": presale.pk, "phase": phase, "booking_id": booking_id},
    }
    if gateway is None:
        return order_place(**place), None
    return order_checkout(gateway=gateway, **place)


def deposit_refund(*, order_id: int, reason: str) -> Refund | None:
    """Refund a paid deposit (or full-price) order in full, along its payment's path, in
    the caller's transaction; nothing when it is not refundable (already refunding,
    refunded, settled)."""
    from quanzi.orders.refunds import refund_create_auto

    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status not in (S.TO_SHIP, S.PAID) or order.settled_at is not None:
        return None
    if Refund.objects.filter(order=order, status__in=OPEN_REFUND).exists():
        return None
    return refund_create_auto(order=order, reason=reason)


def _forfeit(booking: Booking) -> None:
    """Keep the deposit: the deposit order is closed (shipped as nothing, completed) and
    settled at once, so its money moves from the customer's funds to platform revenue;
    the units the booking held go back on the shelf."""
    from quanzi.orders.services import order_complete, order_settle, order_ship
    from quanzi.presale.channel import _give_back

    booking.status = BookingStatus.FORFEITED
    booking.settled_note = "deposit forfeited"
    booking.save(update_fields=["status", "settled_note"])
    _give_back(booking, booking.units_held)
    order_id = booking.first_order_id
    order_ship(order_id=order_id, carrier="presale", tracking_no=f"DEPOSIT-{order_id}")
    order_complete(order_id=order_id, note="deposit forfeited: balance not paid")
    now = timezone.now()
    Order.objects.filter(pk=order_id).update(after_sales_ends_at=now)
    order_settle(order_id=order_id, now=now)


def booking_close_unpaid(*, booking_id: int, now=None) -> bool:
    """The balance window has ended without the balance: cancel an unpaid balance order,
    then forfeit or refund the deposit by the pre-sale's rule. Idempotent."""
    from quanzi.orders.services import order_cancel

    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("presale", "balance_order")
            .filter(pk=booking_id, status=BookingStatus.PAID)
            .first()
        )
        if booking is None or booking.presale.balance_ends_at > now:
            return False
        balance = booking.balance_order
        if balance is not None and balance.status == S.PENDING_PAYMENT:
            order_cancel(order_id=balance.pk, reason="presale_balance_closed")
            booking.refresh_from_db()
            if booking.status != BookingStatus.PAID:
                return False
        first = Order.objects.get(pk=booking.first_order_id)
        if first.status != S.TO_SHIP:
            return False  # a refund of it is already under way
        if booking.presale.unpaid_rule == UnpaidRule.FORFEIT:
            _forfeit(booking)
        else:
            deposit_refund(order_id=first.pk, reason="presale balance not paid")
        log.info(
            "presale deposit closed",
            extra={"booking_id": booking.pk, "rule": booking.presale.unpaid_rule},
        )
        return True


def booking_unwind(*, booking_id: int) -> bool:
    """A failed or cancelled pre-sale gives everything back: an unpaid order is
    cancelled, a paid one that has not shipped is refunded in full. Idempotent."""
    from quanzi.orders.services import order_cancel

    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("presale")
            .filter(pk=booking_id)
            .first()
        )
        if booking is None:
            return False
        did = False
        first = Order.objects.get(pk=booking.first_order_id)
        balance = (
            Order.objects.get(pk=booking.balance_order_id) if booking.balance_order_id else None
        )
        reason = f"presale {booking.presale.status}"
        if first.status == S.PENDING_PAYMENT:
            order_cancel(order_id=first.pk, reason="presale_closed")
            return True
        if balance is not None and balance.status == S.PENDING_PAYMENT:
            order_cancel(order_id=balance.pk, reason="presale_closed")
            did = True
        if balance is not None and balance.status == S.TO_SHIP:
            # Its refund refunds the deposit too (the channel's ``on_refunded``).
            did = deposit_refund(order_id=balance.pk, reason=reason) is not None or did
        elif booking.status == BookingStatus.PAID:
            did = deposit_refund(order_id=first.pk, reason=reason) is not None or did
        return did


def presale_cancel(*, presale_id: int) -> Presale:
    """The operator calls a pre-sale off: every deposit and unshipped order is refunded,
    every unpaid order cancelled (now for the bookings there are, by the sweep after)."""
    with transaction.atomic():
        presale = Presale.objects.select_for_update().filter(pk=presale_id).first()
        if presale is None:
            raise NotFound("presale_not_found", "no such pre-sale")
        if presale.status != PresaleStatus.OPEN:
            raise Conflict("presale_closed", "this pre-sale is closed")
        presale.status = PresaleStatus.CANCELLED
        presale.closed_at = timezone.now()
        presale.save(update_fields=["status", "closed_at"])
    bookings_unwind_due()
    presale.refresh_from_db()
    return presale


# --- sweeps (jobs.py) -------------------------------------------------------------------


def _each(ids, one, *, what: str, failed: set[int] | None) -> int:
    done = 0
    for item_id in ids:
        try:
            if one(item_id):
                done += 1
        except Exception:  # noqa: BLE001 - one bad item never stalls the others
            log.exception(f"presale {what} failed", extra={"booking_id": item_id})
            if failed is not None:
                failed.add(item_id)
    return done


def bookings_close_unpaid_due(*, now=None, batch: int = 200, failed: set[int] | None = None) -> int:
    """Sweep: bookings whose balance window has ended with the balance unpaid."""
    now = now or timezone.now()
    ids = list(
        Booking.objects.filter(
            status=BookingStatus.PAID,
            presale__mode=Mode.DEPOSIT,
            presale__balance_ends_at__lte=now,
            first_order__status=S.TO_SHIP,
        )
        .exclude(pk__in=failed or ())
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    return _each(
        ids, lambda i: booking_close_unpaid(booking_id=i, now=now), what="close", failed=failed
    )


def presales_decide_due(*, now=None) -> int:
    """Sweep: a threshold sale at its deadline succeeds (met) or fails; a deposit sale
    whose balance window has ended is closed. Idempotent."""
    now = now or timezone.now()
    decided = 0
    due = Presale.objects.filter(status=PresaleStatus.OPEN).filter(
        mode=Mode.THRESHOLD, deadline__lte=now
    ) | Presale.objects.filter(
        status=PresaleStatus.OPEN, mode=Mode.DEPOSIT, balance_ends_at__lte=now
    )
    for presale_id in due.values_list("id", flat=True):
        with transaction.atomic():
            presale = Presale.objects.select_for_update().get(pk=presale_id)
            if presale.status != PresaleStatus.OPEN:
                continue
            met = presale.mode == Mode.DEPOSIT or presale.threshold_met_at is not None
            presale.status = PresaleStatus.SUCCEEDED if met else PresaleStatus.FAILED
            presale.closed_at = now
            presale.save(update_fields=["status", "closed_at"])
            decided += 1
            log.info("presale decided", extra={"presale_id": presale.pk, "status": presale.status})
    return decided


def bookings_unwind_due(*, batch: int = 200, failed: set[int] | None = None) -> int:
    """Sweep: bookings of failed or cancelled pre-sales that still hold money or units."""
    ids = list(
        Booking.objects.filter(
            presale__status__in=[PresaleStatus.FAILED, PresaleStatus.CANCELLED],
            status__in=[BookingStatus.PENDING, BookingStatus.PAID, BookingStatus.COMPLETED],
        )
        .exclude(pk__in=failed or ())
        .exclude(first_order__status__in=[S.REFUNDING, S.REFUNDED, S.CANCELLED])
        .exclude(balance_order__status__in=[S.REFUNDING, S.SHIPPED, S.DELIVERED, S.COMPLETED])
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    return _each(ids, lambda i: booking_unwind(booking_id=i), what="unwind", failed=failed)


def voter_coupons_due() -> int:
    """Sweep: coupons of open pre-sales not given yet (a grant that crashed halfway)."""
    total = 0
    for presale_id in Presale.objects.filter(
        status=PresaleStatus.OPEN, voter_coupon_template__isnull=False
    ).values_list("id", flat=True):
        total += voter_coupons_grant(presale_id=presale_id)
    return total
