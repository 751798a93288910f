"""Payment invariants for ``quanzi ledger check``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Sum

from quanzi.ledger.checks import invariant
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.orders.models import Refund, RefundStatus
from quanzi.payments.models import Payment


@invariant("every captured payment is booked once")
def _captured_booked() -> Iterator[str]:
    booked = dict(
        JournalEntry.objects.filter(kind__in=["payment", "payment_unapplied"])
        .values_list("payment_id")
        .annotate(n=Count("id"))
        .values_list("payment_id", "n")
    )
    for payment in Payment.objects.filter(status=Payment.SUCCEEDED).only("id").iterator():
        if booked.pop(payment.pk, 0) != 1:
            yield f"payment {payment.pk} is captured but not booked exactly once"
    for payment_id in list(booked)[:20]:
        yield f"payment {payment_id} is booked but not captured"


@invariant("unapplied payments are returned")
def _unapplied_returned() -> Iterator[str]:
    for payment in Payment.objects.filter(status=Payment.SUCCEEDED, applied=False).iterator():
        refund = Refund.objects.filter(payment=payment, kind="unapplied").first()
        if refund is None:
            yield f"payment {payment.pk} was not applied to its order and has no refund"
        elif refund.amount != payment.amount:
            yield f"payment {payment.pk} of {payment.amount} is returned with {refund.amount}"


@invariant("refunds stay within their payment")
def _refunds_within_payment() -> Iterator[str]:
    totals = (
        Refund.objects.filter(status=RefundStatus.SUCCEEDED, payment__isnull=False)
        .values("payment_id")
        .annotate(total=Sum("amount"))
    )
    amounts = dict(Payment.objects.values_list("id", "amount"))
    for row in totals:
        if row["total"] > amounts.get(row["payment_id"], 0):
            yield f"payment {row['payment_id']} refunded {row['total']}, more than its {amounts[row['payment_id']]}"


@invariant("gateway postings match payments and refunds")
def _gateway_matches() -> Iterator[str]:
    for gateway in Payment.objects.values_list("gateway", flat=True).distinct():
        captured = (
            Payment.objects.filter(gateway=gateway, status=Payment.SUCCEEDED).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        refunded = (
            Refund.objects.filter(
                status=RefundStatus.SUCCEEDED, payment__gateway=gateway
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        posted = (
            Posting.objects.filter(
                account__code=f"gateway:{gateway}",
                entry__kind__in=["payment", "payment_unapplied", "refund", "refund_offline"],
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        if posted != captured - refunded:
            yield f"gateway:{gateway} holds {posted} from orders but captured − refunded is {captured - refunded}"
