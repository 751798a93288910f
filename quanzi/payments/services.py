"""Paying orders and paying money back.

* ``payment_create``: start (or resume) a payment of an order through a gateway.
* ``order_checkout``: place an order and start its payment in one transaction.
* ``notification_handle``: verify a gateway notification and capture the payment —
  idempotent on the gateway's transaction id, safe twice, late or out of order.
* ``refund_execute``: send a refund through the gateway the order was paid with,
  idempotent on the refund number; retried by a sweep until the gateway confirms.
* ``payments_close_for_order`` / ``payments_reconcile``: close the trades of cancelled
  orders at the gateway and find payments whose notifications were lost.

See docs/architecture.md, "Payments at the gateway".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid, InvalidTransition, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.core.sql import insert_many, models_of, run
from quanzi.core.transactions import retry_on_conflict, service_atomic
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


# Who pays, as a gateway knows them, for a payment made from a client app:
# ``lookup(user=, gateway=, client=)`` returns ``(user_ref, payer_app_id)`` or None.
# The WeChat app answers for ``client`` "wechat_mini" / "wechat_mp" with the shopper's
# openid in that app, so WeChat Pay starts a JSAPI payment; payments never imports it.
payer_lookups: list[Callable[..., tuple[str, str] | None]] = []


def _payer(*, user: User, gateway: str, client: str) -> tuple[str, str]:
    if not client:
        return str(user.pk), ""
    for lookup in payer_lookups:
        found = lookup(user=user, gateway=gateway, client=client)
        if found is not None:
            return found
    raise Invalid(
        "payer_unknown",
        f"{gateway} cannot take a payment from {client} for this account (log in there first)",
        {"gateway": gateway, "client": client},
    )


def _trade_no() -> str:
    return "QZ" + timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()


def payment_create(*, order_id: int, user: User, gateway: str, client: str = "") -> Payment:
    """Start paying an order; asking again for the same gateway resumes the same payment.

    A gateway that signs locally starts the payment under the order's lock. A gateway
    that must be asked over the network (WeChat Pay's prepay, up to 25 s) is never
    awaited with a row locked: the payment record is written and committed first, the
    gateway is asked with no transaction open, and its answer is stored afterwards. Two
    requests racing for one order share one record and one ``out_trade_no``, which the
    gateway treats as one trade.

    ``client``: the app the cashier opens in ("wechat_mini", "wechat_mp"), whose payer
    the gateway charges (``payer_lookups``); empty for a browser or a QR code.
    """
    gw = get_gateway(gateway)
    if gw.starts_offline:
        with service_atomic():
            order = _lock_payable(order_id, user)
            existing = _open_payment(order, gateway)
            if existing is not None:
                return existing
            return _payment_insert(order=order, gw=gw, user=user)
    return payment_prepare(order_id=order_id, user=user, gateway=gateway, client=client)


def payment_prepare(*, order_id: int, user: User, gateway: str, client: str = "") -> Payment:
    """Start a payment through a gateway that must be asked over the network: record,
    commit, ask with no row locked, store the answer. Idempotent: a payment that has its
    answer already is returned as it is, without a call.

    Inside a caller's transaction (the ``Idempotency-Key`` wrapper) the call would hold
    the order's lock until that transaction ends: the API calls this first, outside it
    (``payments.api.order_pay``), so that the wrapped ``payment_create`` finds the answer.
    """
    gw = get_gateway(gateway)
    user_ref, payer_app_id = _payer(user=user, gateway=gateway, client=client)
    with transaction.atomic():
        order = _lock_payable(order_id, user)
        payment = _open_payment(order, gateway)
        if payment is not None and payment.params:
            if payment.params.get("payer_app_id", "") == payer_app_id:
                return payment
            # Started for another app (a QR code, the other WeChat app): that trade
            # cannot be paid from here; a new one is made, the old one left to expire.
            payment = None
        if payment is None:
            payment = _payment_record(order=order, gateway=gateway)
        expires_at = order.expires_at
    params = gw.create(
        out_trade_no=payment.out_trade_no,
        amount=payment.amount,
        description=f"Quanzi order {order.pk}",
        user_ref=user_ref,
        expires_at=expires_at,
        payer_app_id=payer_app_id,
    )
    if payer_app_id:
        params = {**params, "payer_app_id": payer_app_id}
    Payment.objects.filter(pk=payment.pk, status=Payment.CREATED).update(params=params)
    payment.params = params
    return payment


def _lock_payable(order_id: int, user: User) -> Order:
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
        raise InvalidTransition("payment_expired", "the payment window of this order has closed")
    return order


def _open_payment(order: Order, gateway: str) -> Payment | None:
    existing = Payment.objects.filter(order=order, gateway=gateway, status=Payment.CREATED).first()
    if existing is not None and existing.amount == order.payable:
        return existing
    return None


def _payment_record(*, order: Order, gateway: str, params: dict | None = None) -> Payment:
    payment = Payment.objects.create(
        order=order,
        gateway=gateway,
        out_trade_no=_trade_no(),
        amount=order.payable,
        params=params or {},
    )
    insert_many([PaymentEvent(payment=payment, kind="created", payload={"amount": payment.amount})])
    return payment


def _payment_insert(*, order: Order, gw, user: User) -> Payment:
    """A payment through a gateway that signs locally, in the caller's transaction."""
    out_trade_no = _trade_no()
    params = gw.create(
        out_trade_no=out_trade_no,
        amount=order.payable,
        description=f"Quanzi order {order.pk}",
        user_ref=str(user.pk),
        expires_at=order.expires_at,
    )
    payment = Payment(
        order=order, gateway=gw.name, out_trade_no=out_trade_no, amount=order.payable, params=params
    )
    insert_many([payment], pks=True)  # written out: every checkout starts one
    insert_many([PaymentEvent(payment=payment, kind="created", payload={"amount": payment.amount})])
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
    """Capture a payment the gateway reports (idempotent on its transaction id). A capture
    the database aborts for a serialization failure or a deadlock is run again."""
    return retry_on_conflict(lambda: _payment_capture(gateway=gateway, note=note))


def _payment_capture(*, gateway: str, note: Notification) -> Payment:
    with transaction.atomic():
        # Lock order first, then payment: the same order as every other order change.
        # Written out: every capture runs them, and the ORM would spend more time building
        # them than the database spends answering.
        conn = transaction.get_connection()
        quote = conn.ops.quote_name
        lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
        payments = quote(Payment._meta.db_table)
        which = [note.out_trade_no, gateway]
        found = models_of(
            Order,
            f"SELECT {{columns}} FROM {quote(Order._meta.db_table)} WHERE id = (SELECT"
            f" order_id FROM {payments} WHERE out_trade_no = %s AND gateway = %s){lock}",
            which,
        )
        if not found:
            raise InvalidNotification("unknown payment")
        order = found[0]
        (payment,) = models_of(
            Payment,
            f"SELECT {{columns}} FROM {payments} WHERE out_trade_no = %s AND gateway = %s{lock}",
            which,
        )
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
        order.paid_with = payment  # what the order's observers see of the payment
        applied = order_mark_paid(order=order)
        payment.applied = applied
        try:
            # No savepoint: a clash aborts the whole capture, which is what we want.
            captured_at = Payment._meta.get_field("captured_at")
            run(
                f"UPDATE {payments} SET status = %s, gateway_txn_id = %s, captured_at = %s,"
                " applied = %s WHERE id = %s",
                [
                    payment.status,
                    payment.gateway_txn_id,
                    captured_at.get_db_prep_save(payment.captured_at, conn),
                    applied,
                    payment.pk,
                ],
            )
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
    insert_many(
        [
            PaymentEvent(
                payment=payment,
                kind=kind,
                key=key,
                payload={"txn_id": note.txn_id, "amount": note.amount},
            )
        ]
    )


def sandbox_complete(*, payment_id: int, user: User) -> dict:
    """The sandbox pays: build the signed notification, deliver it, return it for replays."""
    gw = get_gateway("sandbox")
    quote = transaction.get_connection().ops.quote_name
    found = models_of(
        Payment,
        f"SELECT {{columns}}, o.user_id FROM {quote(Payment._meta.db_table)} p"
        f" JOIN {quote(Order._meta.db_table)} o ON o.id = p.order_id"
        " WHERE p.id = %s AND p.gateway = 'sandbox'",
        [payment_id],
        table="p",
        extra=["buyer_id"],
    )
    payment = found[0] if found else None
    if payment is None or (payment.buyer_id != user.pk and not user.is_operator):
        raise NotFound("payment_not_found", "no such payment")
    if payment.status == Payment.SUCCEEDED:
        txn_id = payment.gateway_txn_id
    elif payment.status == Payment.CLOSED:
        raise Conflict("payment_closed", "this payment was closed; its order was cancelled")
    else:
        try:
            gw.check_payable(params=payment.params)
        except Conflict:
            if gw.charge_reference(out_trade_no=payment.out_trade_no) is None:
                raise
        # A trade the customer paid already (its notification not in yet) is not charged
        # again: recording the charge answers the one taken first, and the gateway sends
        # that charge's notification.
        txn_id = gw.record_charge(
            out_trade_no=payment.out_trade_no,
            amount=payment.amount,
            txn_id="SBX" + secrets.token_hex(10).upper(),
        )
    notification = gw.build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=txn_id
    )
    body = notification["body"].encode()
    parsed = gw.parse_notification(headers=notification["headers"], body=body)
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


# How long after an order is cancelled its open payments are still asked about: the
# gateways retry a lost notification for about a day; two leave room for an outage.
RECONCILE_AFTER_CANCEL = timedelta(days=2)


def payments_reconcile(*, now=None, older_than_seconds: int = 60, batch: int = 200) -> int:
    """Sweep: ask the gateway about open payments (``created``) of unpaid orders, and of
    orders cancelled less than ``RECONCILE_AFTER_CANCEL`` ago.

    A notification can be lost (network, crash). A payment the gateway confirms is
    captured as if it had been notified: on a cancelled order that means an unapplied
    payment, refunded in full. An unpaid payment of a cancelled order is closed at the
    gateway (the close that the cancellation started, retried). Returns how many
    payments were captured.
    """
    now = now or timezone.now()
    payments = list(
        Payment.objects.filter(
            Q(order__status=S.PENDING_PAYMENT)
            | Q(order__status=S.CANCELLED, order__cancelled_at__gte=now - RECONCILE_AFTER_CANCEL),
            status=Payment.CREATED,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
        )
        .select_related("order")
        .order_by("id")[:batch]
    )
    captured = 0
    for payment in payments:
        try:
            if _reconcile_one(payment):
                captured += 1
        except Exception:  # noqa: BLE001 - a gateway outage must not stop the sweep
            log.exception("payment reconciliation failed", extra={"payment_id": payment.pk})
    return captured


def _reconcile_one(payment: Payment) -> bool:
    if _capture_if_paid(payment):
        return True
    if payment.order.status == S.CANCELLED:
        payment_close(payment_id=payment.pk)
    return False


def _capture_if_paid(payment: Payment) -> bool:
    """Ask the gateway; capture the payment if it was paid (True)."""
    result = get_gateway(payment.gateway).query(out_trade_no=payment.out_trade_no)
    if not (result.paid and result.amount == payment.amount):
        return False
    note = Notification(
        out_trade_no=payment.out_trade_no,
        txn_id=result.txn_id,
        amount=result.amount,
        paid=True,
        raw={},
    )
    try:
        payment_capture(gateway=payment.gateway, note=note)
    except InvalidNotification:
        log.warning("query result refused", extra={"payment_id": payment.pk})
        return False
    return True


def payments_close_for_order(*, order_id: int) -> int:
    """After a cancellation commits: close the order's open payments at their gateways,
    so that no old QR code or pay URL can take money any more. Returns how many closed;
    what the gateway could not close now, the reconcile sweep closes later."""
    closed = 0
    for payment_id in Payment.objects.filter(order_id=order_id, status=Payment.CREATED).values_list(
        "pk", flat=True
    ):
        try:
            if payment_close(payment_id=payment_id):
                closed += 1
        except Exception:  # noqa: BLE001 - the reconcile sweep retries it
            log.exception("payment close failed", extra={"payment_id": payment_id})
    return closed


def payment_close(*, payment_id: int) -> bool:
    """Close one open payment of a cancelled order at its gateway (idempotent; no row
    is locked during the call). A trade the customer paid meanwhile cannot be closed: it
    is captured, and the order being cancelled, refunded in full."""
    payment = Payment.objects.select_related("order").filter(pk=payment_id).first()
    if payment is None or payment.status != Payment.CREATED:
        return False
    if payment.order.status != S.CANCELLED:
        return False
    result = get_gateway(payment.gateway).close(
        out_trade_no=payment.out_trade_no, expires_at=payment.order.expires_at
    )
    if result.paid:
        _capture_if_paid(payment)
        return False
    if not result.closed:
        log.warning(
            "payment not closed yet; the reconcile sweep retries",
            extra={"payment_id": payment.pk, "error": result.error},
        )
        return False
    with transaction.atomic():
        done = Payment.objects.filter(pk=payment.pk, status=Payment.CREATED).update(
            status=Payment.CLOSED
        )
        if done:
            PaymentEvent.objects.create(
                payment=payment, kind="closed", key=f"close:{payment.pk}", payload={}
            )
    if done:
        log.info("payment closed", extra={"payment_id": payment.pk, "order_id": payment.order_id})
    return bool(done)
