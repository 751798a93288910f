"""Paying orders and paying money back.

* ``payment_create``: start (or resume) a payment of an order through a gateway.
* ``order_checkout``: place an order and start its payment in one transaction.
* ``notification_handle``: verify a gateway notification and capture the payment —
  idempotent on the gateway's transaction id, safe twice, late or out of order.
* ``refund_execute``: send a refund through the gateway the order was paid with,
  idempotent on the refund number; retried by a sweep until the gateway confirms.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid, InvalidTransition, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.core.transactions import service_atomic
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.models import Order, Refund, RefundStatus
from quanzi.orders.models import Status as S
from quanzi.orders.refunds import refund_book_success, refund_create_unapplied
from quanzi.orders.services import order_mark_paid, order_place
from quanzi.payments.gateways import get_gateway
from quanzi.payments.gateways.base import InvalidNotification, Notification
from quanzi.payments.models import Payment, PaymentEvent

log = get_logger("quanzi.payments")


def _trade_no() -> str:
    return "QZ" + timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()


def payment_create(*, order_id: int, user: User, gateway: str) -> Payment:
    """Start paying an order; asking again for the same gateway resumes the same payment."""
    gw = get_gateway(gateway)
    with service_atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.user_id != user.pk:
            raise NotFound("order_not_found", "no such order")
        if order.status != S.PENDING_PAYMENT:
            raise InvalidTransition(
                "invalid_transition",
                f"an order that is {order.status} cannot be paid",
                {"status": order.status},
            )
        if order.expires_at <= timezone.now():
            raise InvalidTransition(
                "payment_expired", "the payment window of this order has closed"
            )
        existing = Payment.objects.filter(
            order=order, gateway=gateway, status=Payment.CREATED
        ).first()
        if existing is not None and existing.amount == order.payable:
            return existing
        return _payment_insert(order=order, gw=gw, user=user)


def _payment_insert(*, order: Order, gw, user: User) -> Payment:
    out_trade_no = _trade_no()
    params = gw.create(
        out_trade_no=out_trade_no,
        amount=order.payable,
        description=f"Quanzi order {order.pk}",
        user_ref=str(user.pk),
    )
    payment = Payment.objects.create(
        order=order, gateway=gw.name, out_trade_no=out_trade_no, amount=order.payable, params=params
    )
    PaymentEvent.objects.create(payment=payment, kind="created", payload={"amount": payment.amount})
    return payment


def order_checkout(*, user: User, gateway: str, **place: Any) -> tuple[Order, Payment | None]:
    """Place an order and start paying it, in one transaction (one request, one commit).

    ``place`` are ``order_place``'s arguments. Only a gateway that starts a payment
    without a network call can: a provider's answer is never awaited while the SKU rows
    are locked. An order with nothing to pay is paid at placement and gets no payment.
    """
    gw = get_gateway(gateway)
    if not gw.starts_offline:
        raise Invalid(
            "pay_separately",
            f"with {gateway}, place the order first, then pay it (POST /orders/{{id}}/pay)",
            {"gateway": gateway},
        )
    with service_atomic():
        order = order_place(user=user, **place)
        if order.status != S.PENDING_PAYMENT:
            return order, None
        # Nobody else sees the order before this transaction commits: no lock, no
        # earlier payment to resume.
        return order, _payment_insert(order=order, gw=gw, user=user)


def notification_handle(*, gateway: str, headers: dict[str, str], body: bytes) -> Payment:
    """Verify a notification and capture what it reports (raises ``InvalidNotification``)."""
    gw = get_gateway(gateway)
    note = gw.parse_notification(headers=headers, body=body)
    if not note.paid:
        payment = Payment.objects.filter(out_trade_no=note.out_trade_no, gateway=gateway).first()
        if payment is None:
            raise InvalidNotification("unknown payment")
        return payment
    return payment_capture(gateway=gateway, note=note)


def payment_capture(*, gateway: str, note: Notification) -> Payment:
    with transaction.atomic():
        # Lock order first, then payment: the same order as every other order change.
        paid_by = Payment.objects.filter(out_trade_no=note.out_trade_no, gateway=gateway)
        order = (
            Order.objects.select_for_update()
            .filter(pk=Subquery(paid_by.values("order_id")[:1]))
            .first()
        )
        if order is None:
            raise InvalidNotification("unknown payment")
        payment = paid_by.select_for_update().get()
        if payment.status == Payment.SUCCEEDED:
            if payment.gateway_txn_id != note.txn_id:
                raise InvalidNotification("a different transaction for a captured payment")
            _event(payment, "duplicate_notification", note, key=None)
            return payment
        if note.amount != payment.amount:
            raise InvalidNotification("amount does not match the payment")
        payment.status = Payment.SUCCEEDED
        payment.gateway_txn_id = note.txn_id
        payment.captured_at = timezone.now()
        applied = order_mark_paid(order=order)
        payment.applied = applied
        try:
            # No savepoint: a clash aborts the whole capture, which is what we want.
            payment.save(update_fields=["status", "gateway_txn_id", "captured_at", "applied"])
        except IntegrityError as exc:
            raise InvalidNotification("transaction id already used") from exc
        _event(payment, "captured", note, key=f"capture:{payment.pk}")
        entry_post(
            key=f"payment:{payment.pk}",
            kind="payment" if applied else "payment_unapplied",
            legs=[
                Leg(chart.gateway(gateway), payment.amount),
                Leg(chart.CUSTOMER_FUNDS, -payment.amount),
            ],
            order_id=order.pk,
            payment_id=payment.pk,
        )
        if not applied:
            reason = (
                "paid after cancellation" if order.status == S.CANCELLED else "order already paid"
            )
            refund_create_unapplied(payment=payment, reason=reason)
            log.warning(
                "payment not applied; refunding",
                extra={"order_id": order.pk, "payment_id": payment.pk, "reason": reason},
            )
        else:
            log.info(
                "payment captured",
                extra={"order_id": order.pk, "payment_id": payment.pk, "amount": payment.amount},
            )
    return payment


def _event(payment: Payment, kind: str, note: Notification, *, key: str | None) -> None:
    PaymentEvent.objects.create(
        payment=payment, kind=kind, key=key, payload={"txn_id": note.txn_id, "amount": note.amount}
    )


def sandbox_complete(*, payment_id: int, user: User) -> dict:
    """The sandbox pays: build the signed notification, deliver it, return it for replays."""
    gw = get_gateway("sandbox")
    payment = (
        Payment.objects.select_related("order").filter(pk=payment_id, gateway="sandbox").first()
    )
    if payment is None or (payment.order.user_id != user.pk and not user.is_operator):
        raise NotFound("payment_not_found", "no such payment")
    txn_id = None
    if payment.status == Payment.SUCCEEDED:
        txn_id = payment.gateway_txn_id
    notification = gw.build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=txn_id
    )
    body = notification["body"].encode()
    parsed = gw.parse_notification(headers=notification["headers"], body=body)
    gw.record_charge(out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=parsed.txn_id)
    payment_capture(gateway="sandbox", note=parsed)
    return notification


def refund_execute(*, refund_id: int) -> Refund:
    """Send an approved refund through the original gateway; book it when confirmed."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("payment")
            .filter(pk=refund_id)
            .first()
        )
        if refund is None:
            raise NotFound("refund_not_found", "no such refund")
        if refund.status not in (RefundStatus.APPROVED, RefundStatus.PROCESSING):
            return refund
        refund.status = RefundStatus.PROCESSING
        refund.attempts += 1
        backoff = min(
            get_settings().refund_retry_seconds * (2 ** min(refund.attempts - 1, 6)), 86_400
        )
        refund.next_attempt_at = timezone.now() + timedelta(seconds=backoff)
        refund.save(update_fields=["status", "attempts", "next_attempt_at"])
    payment = refund.payment
    if payment is None or refund.amount == 0:
        return refund_book_success(refund_id=refund.pk)
    result = get_gateway(payment.gateway).refund(
        out_trade_no=payment.out_trade_no,
        refund_no=refund.refund_no,
        amount=refund.amount,
        total=payment.amount,
        reason=refund.reason,
    )
    if result.succeeded:
        return refund_book_success(refund_id=refund.pk, gateway_refund_id=result.gateway_refund_id)
    Refund.objects.filter(pk=refund.pk).update(last_error=(result.error or "pending")[:300])
    log.warning("refund not confirmed yet", extra={"refund_id": refund.pk, "error": result.error})
    return refund


def refunds_retry(*, now=None, batch: int = 200) -> int:
    """Sweep: push every approved or processing refund whose retry time has come."""
    now = now or timezone.now()
    ids = list(
        Refund.objects.filter(
            status__in=[RefundStatus.APPROVED, RefundStatus.PROCESSING], next_attempt_at__lte=now
        )
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    done = 0
    for refund_id in ids:
        try:
            if refund_execute(refund_id=refund_id).status == RefundStatus.SUCCEEDED:
                done += 1
        except Exception:  # noqa: BLE001 - one bad refund must not stop the others
            log.exception("refund retry failed", extra={"refund_id": refund_id})
    return done


def payments_reconcile(*, now=None, older_than_seconds: int = 60, batch: int = 200) -> int:
    """Sweep: ask the gateway about payments still open on unpaid orders.

    A notification can be lost (network, crash); before the payment window closes the
    gateway is queried and a confirmed payment is captured as if it had been notified.
    """
    now = now or timezone.now()
    payments = list(
        Payment.objects.filter(
            status=Payment.CREATED,
            order__status=S.PENDING_PAYMENT,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
        ).order_by("id")[:batch]
    )
    captured = 0
    for payment in payments:
        try:
            result = get_gateway(payment.gateway).query(out_trade_no=payment.out_trade_no)
        except Exception:  # noqa: BLE001 - a gateway outage must not stop the sweep
            log.exception("payment query failed", extra={"payment_id": payment.pk})
            continue
        if result.paid and result.amount == payment.amount:
            note = Notification(
                out_trade_no=payment.out_trade_no,
                txn_id=result.txn_id,
                amount=result.amount,
                paid=True,
                raw={},
            )
            try:
                payment_capture(gateway=payment.gateway, note=note)
                captured += 1
            except InvalidNotification:
                log.warning("query result refused", extra={"payment_id": payment.pk})
    return captured
