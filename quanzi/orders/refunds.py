"""After-sales refunds: requested per line, approved by the operator, paid back along the
original path, retried until the gateway confirms.

The refund record is written first; the gateway call happens outside any transaction
(idempotent on ``refund_no``); the result is booked in a second transaction. A crash in
between leaves a ``processing`` refund that the retry sweep completes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.services import sales_add, stock_release
from quanzi.core.errors import Conflict, Invalid, InvalidTransition, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.tasks import enqueue
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.channels import channel_for, observers
from quanzi.orders.models import Order, OrderLine, Refund, RefundStatus
from quanzi.orders.models import Status as S
from quanzi.orders.states import AFTER_PAYMENT, transition

log = get_logger("quanzi.refunds")

OPEN = (RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.PROCESSING)
NOT_SHIPPED = (S.PAID, S.GROUPING, S.TO_SHIP)


def refund_no() -> str:
    return "RF" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(8).upper()


def _lock_order(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("order_not_found", "no such order")
    return order


def _plan(
    order: Order, requested: list[dict[str, Any]] | None
) -> tuple[list[dict[str, int]], int, int]:
    """Lines, goods amount and shipping refunded by a request (``None`` = everything left)."""
    lines = {line.pk: line for line in OrderLine.objects.filter(order=order).order_by("id")}
    if requested is None:
        wanted = {
            pk: line.qty - line.refunded_qty
            for pk, line in lines.items()
            if line.qty > line.refunded_qty
        }
    else:
        if not requested:
            raise Invalid("invalid_refund", "name at least one line to refund")
        wanted = {}
        for item in requested:
            line_id, qty = item.get("line_id"), item.get("qty")
            if line_id not in lines:
                raise Invalid(
                    "invalid_refund", "this line is not part of the order", {"line_id": line_id}
                )
            if not isinstance(qty, int) or qty < 1:
                raise Invalid("invalid_refund", "refund at least one unit", {"line_id": line_id})
            wanted[line_id] = wanted.get(line_id, 0) + qty
    plan, amount = [], 0
    for line_id, qty in sorted(wanted.items()):
        line = lines[line_id]
        left = line.qty - line.refunded_qty
        if qty > left:
            raise Invalid(
                "refund_exceeds_purchase",
                "cannot refund more units than were bought and not yet refunded",
                {"line_id": line_id, "refundable_qty": left},
            )
        # The last units take whatever is left, so a line's refunds add up to what it paid.
        part = line.paid - line.refunded_amount if qty == left else line.paid * qty // line.qty
        plan.append({"line_id": line_id, "qty": qty, "amount": part})
        amount += part
    if not plan:
        raise Invalid("nothing_to_refund", "everything on this order is refunded already")
    everything = all(
        wanted.get(pk, 0) == line.qty - line.refunded_qty for pk, line in lines.items()
    )
    shipping = order.shipping if everything and order.status in NOT_SHIPPED else 0
    return plan, amount, shipping


def _accepted_payment(order: Order):
    from quanzi.payments.models import Payment

    return Payment.objects.filter(order=order, applied=True).first()


def refund_request(
    *, order_id: int, user: User, lines: list[dict[str, Any]] | None, reason: str
) -> Refund:
    """The customer asks for (part of) their money back; the operator approves it."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.user_id != user.pk:
            raise NotFound("order_not_found", "no such order")
        return _refund_open(order, lines=lines, reason=reason, kind="customer")


def _refund_open(order: Order, *, lines, reason: str, kind: str) -> Refund:
    if Refund.objects.filter(order=order, status__in=OPEN).exists():
        raise Conflict("refund_in_progress", "this order already has a refund in progress")
    if order.status not in AFTER_PAYMENT:
        raise InvalidTransition(
            "invalid_transition",
            f"an order that is {order.status} cannot be refunded",
            {"from": order.status, "to": S.REFUNDING},
        )
    if kind == "customer" and order.settled_at is not None:
        raise Invalid("after_sales_closed", "the after-sales window of this order has ended")
    if (
        kind == "customer"
        and order.after_sales_ends_at
        and order.after_sales_ends_at <= timezone.now()
    ):
        raise Invalid("after_sales_closed", "the after-sales window of this order has ended")
    plan, amount, shipping = _plan(order, lines)
    refund = Refund.objects.create(
        order=order,
        payment=_accepted_payment(order),
        refund_no=refund_no(),
        kind=kind,
        amount=amount + shipping,
        shipping=shipping,
        lines=plan,
        reason=(reason or "")[:200],
        restock=order.status in NOT_SHIPPED,
    )
    transition(order, S.REFUNDING, note=f"refund {refund.pk} requested")
    return refund


def refund_create_auto(
    *, order: Order, reason: str, lines: list[dict[str, Any]] | None = None
) -> Refund:
    """A refund the platform owes without asking (failed group, lost slot, goods short at
    a pickup point…): in full, or of ``lines`` (``[{line_id, qty}]``).

    Runs in the caller's transaction with ``order`` locked; it is approved at once and
    executed after commit.
    """
    refund = _refund_open(order, lines=lines, reason=reason, kind="auto")
    _approve(refund)
    return refund


def refund_create_unapplied(*, payment, reason: str) -> Refund:
    """Return a captured payment the order could not take (paid after cancellation, paid
    twice, or for a slot that was lost). Runs in the capture transaction."""
    existing = Refund.objects.filter(payment=payment, kind="unapplied").first()
    if existing is not None:
        return existing
    refund = Refund.objects.create(
        order_id=payment.order_id,
        payment=payment,
        refund_no=refund_no(),
        kind="unapplied",
        amount=payment.amount,
        lines=[],
        reason=reason[:200],
        restock=False,
    )
    _approve(refund)
    return refund


def refund_operator_create(*, order_id: int, lines, reason: str, operator: User) -> Refund:
    """The operator refunds an order directly (also after the after-sales window)."""
    with transaction.atomic():
        order = _lock_order(order_id)
        refund = _refund_open(order, lines=lines, reason=reason, kind="operator")
        _approve(refund)
        return refund


def _approve(refund: Refund) -> None:
    refund.status = RefundStatus.APPROVED
    refund.approved_at = timezone.now()
    refund.next_attempt_at = refund.approved_at
    refund.save(update_fields=["status", "approved_at", "next_attempt_at"])
    enqueue("quanzi.payments.services.refund_execute", refund_id=refund.pk)


def refund_approve(*, refund_id: int, operator: User) -> Refund:
    """Approve a requested refund. Approving twice refunds once."""
    with transaction.atomic():
        refund = Refund.objects.select_related("order").filter(pk=refund_id).first()
        if refund is None:
            raise NotFound("refund_not_found", "no such refund")
        _lock_order(refund.order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.REQUESTED:
            if refund.status == RefundStatus.REJECTED:
                raise InvalidTransition("invalid_transition", "this refund was rejected")
            return refund
        _approve(refund)
        return refund


def refund_reject(*, refund_id: int, operator: User, reason: str = "") -> Refund:
    with transaction.atomic():
        refund = Refund.objects.filter(pk=refund_id).first()
        if refund is None:
            raise NotFound("refund_not_found", "no such refund")
        order = _lock_order(refund.order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status == RefundStatus.REJECTED:
            return refund
        if refund.status != RefundStatus.REQUESTED:
            raise InvalidTransition(
                "invalid_transition", f"a {refund.status} refund cannot be rejected"
            )
        refund.status = RefundStatus.REJECTED
        refund.last_error = (reason or "")[:300]
        refund.save(update_fields=["status", "last_error"])
        transition(order, order.status_before_refund, note=f"refund {refund.pk} rejected")
        return refund


def refund_book_success(*, refund_id: int, gateway_refund_id: str = "") -> Refund:
    """The gateway confirmed: book the money, update the lines, settle the order's state."""
    return refund_book(refund_id=refund_id, gateway_refund_id=gateway_refund_id)


@dataclass(frozen=True)
class OfflineProof:
    """What the operator gives when it paid a refund back outside the gateway."""

    reference: str
    evidence: str
    operator_id: int


def refund_book(
    *, refund_id: int, gateway_refund_id: str = "", offline: OfflineProof | None = None
) -> Refund:
    """Book a refund as paid: through its gateway, or (``offline``) by the operator.

    Idempotent: a refund already booked is returned as it is. A zero refund (a free
    prize, a line that paid nothing) completes without a journal entry.
    """
    with transaction.atomic():
        refund = Refund.objects.filter(pk=refund_id).first()
        if refund is None:
            raise NotFound("refund_not_found", "no such refund")
        order = _lock_order(refund.order_id)
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("payment")
            .get(pk=refund_id)
        )
        if refund.status == RefundStatus.SUCCEEDED:
            if offline is not None and not refund.offline_reference:
                raise Conflict(
                    "refund_already_paid",
                    "the gateway already paid this refund back; nothing was booked offline",
                    {"refund_id": refund.pk},
                )
            return refund
        if offline is not None and refund.status not in (
            RefundStatus.APPROVED,
            RefundStatus.PROCESSING,
        ):
            raise InvalidTransition(
                "invalid_transition",
                f"a {refund.status} refund cannot be completed; approve it first",
                {"status": refund.status},
            )
        # A payment the order never took was never settled: its money is still the
        # customer's, whatever happened to the order since.
        refund.after_settlement = order.settled_at is not None and refund.kind != "unapplied"
        if refund.amount:
            _refund_entries(order, refund, offline=offline)
        refund.status = RefundStatus.SUCCEEDED
        refund.succeeded_at = timezone.now()
        refund.gateway_refund_id = gateway_refund_id[:80]
        fields = ["status", "succeeded_at", "gateway_refund_id", "after_settlement"]
        if offline is not None:
            refund.offline_reference = offline.reference[:80]
            refund.offline_evidence = offline.evidence[:500]
            refund.offline_by_id = offline.operator_id
            fields += ["offline_reference", "offline_evidence", "offline_by_id"]
        refund.save(update_fields=fields)
        if refund.kind == "unapplied":
            # The payment never became the order's: nothing on the order changes.
            log.info(
                "unapplied payment returned", extra={"order_id": order.pk, "refund_id": refund.pk}
            )
            return refund
        _refund_apply(order, refund)
    log.info(
        "refund paid",
        extra={
            "order_id": order.pk,
            "refund_id": refund.pk,
            "amount": refund.amount,
            "offline": offline is not None,
        },
    )
    return refund


def _refund_entries(order: Order, refund: Refund, *, offline: OfflineProof | None) -> None:
    """The refund's journal entries: the money leaves where its capture put it (the
    customer's funds, or platform revenue once the order was settled) for the gateway,
    or, paid offline, for ``refunds_offline``, which the gateway's money then covers."""
    gateway = chart.gateway(refund.payment.gateway if refund.payment else "sandbox")
    source = chart.PLATFORM_REVENUE if refund.after_settlement else chart.CUSTOMER_FUNDS
    ids = {"order_id": order.pk, "payment_id": refund.payment_id, "refund_id": refund.pk}
    paid_from = chart.REFUNDS_OFFLINE if offline is not None else gateway
    entry_post(
        key=f"refund:{refund.pk}",
        kind="refund",
        legs=[Leg(source, refund.amount), Leg(paid_from, -refund.amount)],
        memo=refund.reason,
        **ids,
    )
    if offline is not None:
        entry_post(
            key=f"refund_offline:{refund.pk}",
            kind="refund_offline",
            legs=[Leg(chart.REFUNDS_OFFLINE, refund.amount), Leg(gateway, -refund.amount)],
            memo=f"paid offline: {offline.reference}",
            **ids,
        )


def _refund_apply(order: Order, refund: Refund) -> None:
    """A paid refund on the order: lines, stock, state, the channel and the observers."""
    for part in refund.lines:
        line = OrderLine.objects.select_for_update().get(pk=part["line_id"])
        line.refunded_qty += part["qty"]
        line.refunded_amount += part["amount"]
        line.save(update_fields=["refunded_qty", "refunded_amount"])
        # 已售 counts what was paid and kept: a refunded unit is no longer sold.
        sales_add(product_id=line.product_id, qty=-part["qty"])
        if refund.restock and channel_for(order.channel).reserves_sku_stock:
            stock_release(sku_id=line.sku_id, qty=part["qty"])
    order.refunded_amount += refund.amount
    fully = not OrderLine.objects.filter(order=order, refunded_qty__lt=F("qty")).exists()
    if order.status == S.REFUNDING:
        transition(
            order,
            S.REFUNDED if fully else order.status_before_refund,
            note=f"refund {refund.pk} paid",
        )
    else:
        order.save()
    if order.status == S.REFUNDED:
        _shipping_keep(order)
    channel_for(order.channel).on_refunded(order, refund)
    for observer in observers():
        observer.on_refund_succeeded(order, refund)


def _shipping_keep(order: Order) -> None:
    """A refunded order leaves nothing in the customer's funds. Every line is paid back;
    what is left is the shipping fee of an order that had shipped, which the platform
    keeps (docs/ledger.md): it becomes revenue now, since the order never settles."""
    kept = order.payable - order.refunded_amount
    if kept > 0 and order.settled_at is None:
        entry_post(
            key=f"shipping_kept:{order.pk}",
            kind="shipping_kept",
            legs=[Leg(chart.CUSTOMER_FUNDS, kept), Leg(chart.PLATFORM_REVENUE, -kept)],
            order_id=order.pk,
            memo="shipping fee of a shipped order refunded in full",
        )
