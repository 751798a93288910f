"""The ``"presale"`` selling channel and the observer that keeps a deposit order with
its balance order. Registered from ``PresaleConfig.ready()``; every hook runs inside the
transaction of the order change that calls it.

Phases (``extra["phase"]``, recorded in ``channel_ref`` as ``"<presale>:<phase>"``):

* ``deposit``: one line of the pre-sale's SKU at the deposit per unit, supply price 0
  (the supplier is paid once, by the balance order), no address, no coupon, no points,
  no commission. It takes the units from the SKU's shelf for the booking.
* ``balance``: the same SKU and quantity at ``price − deposit_value``, in the balance
  window, for a booking whose deposit is paid; takes no more units.
* ``full``: threshold mode, the whole price; takes the units; ships only once the
  threshold is met.

The channel keeps its own count of the units its bookings hold (``Booking.units_held``,
``sku_units_held``), so ``reserves_sku_stock`` is off: the trunk neither takes nor gives
back units for its orders.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Sum
from django.utils import timezone

from quanzi.catalog.services import stock_release, stock_reserve
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.orders.channels import Channel, OrderObserver, PlaceContext
from quanzi.orders.models import Order, Refund
from quanzi.orders.models import Status as S
from quanzi.presale.models import Booking, BookingStatus, Mode, Presale, PresaleStatus, Vote

log = get_logger("quanzi.presale")

NAME = "presale"
PHASES = ("deposit", "balance", "full")


def phase_of(order: Order) -> tuple[int, str]:
    presale_id, _, phase = order.channel_ref.partition(":")
    return int(presale_id), phase


def is_voter(presale: Presale, user_id: int) -> bool:
    return bool(
        presale.proposal_id
        and Vote.objects.filter(proposal_id=presale.proposal_id, user_id=user_id).exists()
    )


def opens_for(presale: Presale, user_id: int):
    """When this person may start buying: voters of the source proposal from the early
    start, everyone else from the public start."""
    if presale.early_starts_at and presale.early_starts_at < presale.starts_at:
        if is_voter(presale, user_id):
            return presale.early_starts_at
    return presale.starts_at


def _not_open(code: str, message: str, at=None) -> Conflict:
    return Conflict(code, message, {"at": at.isoformat()} if at else {})


def _booking_of(order: Order) -> Booking | None:
    _presale_id, phase = phase_of(order)
    field = "balance_order_id" if phase == "balance" else "first_order_id"
    return Booking.objects.filter(**{field: order.pk}).first()


def _give_back(booking: Booking, qty: int) -> None:
    """Units a booking held go back on the shelf (deposit forfeited or refunded, order
    cancelled or refunded before shipping)."""
    qty = min(qty, booking.units_held)
    if qty <= 0:
        return
    stock_release(sku_id=booking.presale.sku_id, qty=qty)
    Booking.objects.filter(pk=booking.pk).update(units_held=F("units_held") - qty)
    booking.units_held -= qty


class PresaleChannel(Channel):
    """``extra``: ``presale_id``, ``phase`` and, for the balance, ``booking_id``."""

    name = NAME
    reserves_sku_stock = False
    public_checkout = False  # its own endpoint: POST /presale/sales/{id}/orders

    def price(self, ctx: PlaceContext) -> None:
        presale_id, phase = ctx.extra.get("presale_id"), ctx.extra.get("phase")
        if not isinstance(presale_id, int) or phase not in PHASES:
            raise Invalid("invalid_presale_order", "a pre-sale order names its sale and phase")
        presale = Presale.objects.select_related("sku").filter(pk=presale_id).first()
        if presale is None:
            raise NotFound("presale_not_found", "no such pre-sale")
        if presale.status != PresaleStatus.OPEN:
            raise Conflict("presale_closed", "this pre-sale is closed")
        if len(ctx.lines) != 1 or ctx.lines[0].sku.pk != presale.sku_id:
            raise Invalid("sku_not_in_presale", "a pre-sale order buys the pre-sale's item")
        line = ctx.lines[0]
        now = timezone.now()
        wanted_mode = Mode.THRESHOLD if phase == "full" else Mode.DEPOSIT
        if presale.mode != wanted_mode:
            raise Invalid("invalid_presale_order", f"this pre-sale takes no {phase} orders")
        if phase == "balance":
            booking = (
                Booking.objects.filter(
                    pk=ctx.extra.get("booking_id"), presale=presale, user_id=ctx.user.pk
                )
                .select_related("balance_order")
                .first()
            )
            if booking is None:
                raise NotFound("booking_not_found", "no such deposit")
            if booking.status != BookingStatus.PAID:
                raise Conflict("deposit_not_paid", "pay the deposit first, or it is closed")
            if not presale.balance_starts_at <= now < presale.balance_ends_at:
                raise _not_open(
                    "balance_not_open",
                    "the balance is paid in its window",
                    presale.balance_starts_at if now < presale.balance_starts_at else None,
                )
            if line.qty != booking.qty:
                raise Invalid("invalid_quantity", "the balance is for the units of the deposit")
            line.unit_price = presale.price - presale.deposit_value
            ctx.extra["_booking"] = booking
        else:
            opens, ends = opens_for(presale, ctx.user.pk), presale.sales_end
            if now < opens:
                raise _not_open("presale_not_started", "this pre-sale has not started", opens)
            if now >= ends:
                raise Conflict("presale_ended", "ordering for this pre-sale has ended")
            if presale.per_user_limit:
                held = (
                    Booking.objects.filter(presale=presale, user_id=ctx.user.pk)
                    .exclude(status__in=[BookingStatus.CANCELLED, BookingStatus.REFUNDED])
                    .aggregate(n=Sum("qty"))["n"]
                    or 0
                )
                if held + line.qty > presale.per_user_limit:
                    raise Conflict(
                        "limit_exceeded",
                        "you have reached the limit of this pre-sale",
                        {"limit": presale.per_user_limit, "held": held},
                    )
            if phase == "deposit":
                line.unit_price = presale.deposit
                line.supply_price = 0  # the balance order pays the supplier
                ctx.commission_enabled = False
                ctx.accepts_coupon = False
                ctx.accepts_points = False
                ctx.needs_address = False
                ctx.free_shipping = True
            else:
                line.unit_price = presale.price
        ctx.channel_ref = f"{presale.pk}:{phase}"
        ctx.extra["_presale"] = presale

    def reserve(self, ctx: PlaceContext, order: Order) -> None:
        presale: Presale = ctx.extra["_presale"]
        line = ctx.lines[0]
        if ctx.extra["phase"] == "balance":
            booking: Booking = ctx.extra["_booking"]
            taken = Booking.objects.filter(
                pk=booking.pk, status=BookingStatus.PAID, balance_order__isnull=True
            ).update(balance_order=order)
            if taken != 1:
                raise Conflict("balance_in_progress", "a balance order for this deposit exists")
            return
        stock_reserve(sku_id=presale.sku_id, qty=line.qty)
        Booking.objects.create(
            presale=presale, user_id=ctx.user.pk, qty=line.qty, first_order=order,
            units_held=line.qty,
        )  # fmt: skip

    def after_paid(self, order: Order) -> str:
        presale_id, phase = phase_of(order)
        booking = Booking.objects.select_for_update().get(
            **(
                {"balance_order_id": order.pk}
                if phase == "balance"
                else {"first_order_id": order.pk}
            )
        )
        if phase == "balance":
            booking.status = BookingStatus.COMPLETED
            booking.save(update_fields=["status"])
            return S.TO_SHIP
        booking.status = BookingStatus.PAID
        booking.save(update_fields=["status"])
        Presale.objects.filter(pk=presale_id).update(paid_units=F("paid_units") + booking.qty)
        if phase == "full":
            # Met once, met for good; only payments made by the deadline count.
            now = timezone.now()
            met = Presale.objects.filter(
                pk=presale_id,
                threshold_met_at__isnull=True,
                paid_units__gte=F("threshold_units"),
                deadline__gt=now,
                status=PresaleStatus.OPEN,
            ).update(threshold_met_at=now)
            if met:
                log.info("presale threshold met", extra={"presale_id": presale_id})
        return S.TO_SHIP

    def on_cancelled(self, order: Order) -> None:
        _presale_id, phase = phase_of(order)
        booking = _booking_of(order)
        if booking is None:
            return
        if phase == "balance":
            Booking.objects.filter(pk=booking.pk, balance_order_id=order.pk).update(
                balance_order=None
            )
            return
        booking.presale = Presale.objects.get(pk=booking.presale_id)
        _give_back(booking, booking.units_held)
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    def on_refunded(self, order: Order, refund: Refund) -> None:
        presale_id, phase = phase_of(order)
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("presale")
            .get(
                **(
                    {"balance_order_id": order.pk}
                    if phase == "balance"
                    else {"first_order_id": order.pk}
                )
            )
        )
        qty = sum(part["qty"] for part in refund.lines)
        full = order.status == S.REFUNDED
        if phase in ("deposit", "full") and qty:
            Presale.objects.filter(pk=presale_id).update(paid_units=F("paid_units") - qty)
        if phase == "full":
            if refund.restock:
                _give_back(booking, qty)
            if full:
                Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.REFUNDED)
        elif phase == "deposit":
            if full and booking.status == BookingStatus.PAID:
                _give_back(booking, booking.units_held)
                Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.REFUNDED)
        else:  # balance
            if refund.restock:
                _give_back(booking, qty)
            if full:
                Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.REFUNDED)
                # The goods are returned in full: so is the deposit paid towards them.
                from quanzi.presale.services.sales import deposit_refund

                deposit_refund(order_id=booking.first_order_id, reason="balance refunded")

    def may_ship(self, order: Order) -> bool:
        _presale_id, phase = phase_of(order)
        booking = _booking_of(order)
        if booking is None:
            return False
        if phase == "deposit":
            # It leaves with its balance order, or is closed when forfeited.
            return booking.status in (BookingStatus.COMPLETED, BookingStatus.FORFEITED)
        if phase == "balance":
            return True
        presale = Presale.objects.get(pk=booking.presale_id)
        return presale.threshold_met_at is not None and presale.status in (
            PresaleStatus.OPEN,
            PresaleStatus.SUCCEEDED,
        )

    def describe(self, order: Order) -> dict[str, Any]:
        booking = _booking_of(order)
        if booking is None:
            return {}
        presale_id, phase = phase_of(order)
        return {
            "presale": {
                "presale_id": presale_id,
                "phase": phase,
                "booking_id": booking.pk,
                "booking_status": booking.status,
            }
        }

    def sku_units_held(self) -> dict[int, int]:
        rows = (
            Booking.objects.filter(units_held__gt=0)
            .values_list("presale__sku_id")
            .annotate(units=Sum("units_held"))
        )
        return {sku_id: units for sku_id, units in rows}


class PresaleFollower(OrderObserver):
    """A deposit order follows its balance order: shipped with it (same parcel) and
    completed with it, so that both settle."""

    def on_shipped(self, order: Order) -> None:
        if order.channel != NAME or not order.channel_ref.endswith(":balance"):
            return
        from quanzi.orders.services import order_ship

        booking = Booking.objects.filter(balance_order_id=order.pk).first()
        if booking is None:
            return
        deposit = Order.objects.filter(pk=booking.first_order_id, status=S.TO_SHIP).first()
        if deposit is not None:
            order_ship(order_id=deposit.pk, carrier=order.carrier, tracking_no=order.tracking_no)

    def on_completed(self, order: Order) -> None:
        if order.channel != NAME or not order.channel_ref.endswith(":balance"):
            return
        from quanzi.orders.services import order_complete

        booking = Booking.objects.filter(balance_order_id=order.pk).first()
        if booking is None:
            return
        deposit = Order.objects.filter(
            pk=booking.first_order_id, status__in=[S.SHIPPED, S.DELIVERED]
        ).first()
        if deposit is not None:
            order_complete(order_id=deposit.pk, note="completed with its balance order")
