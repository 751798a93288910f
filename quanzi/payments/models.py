from __future__ import annotations

from django.db import models


class Payment(models.Model):
    """One attempt to pay an order through one gateway.

    ``applied`` marks the one payment that paid the order; a payment captured for an
    order that could no longer take it (cancelled, already paid) is returned in full.
    """

    CREATED, SUCCEEDED, CLOSED = "created", "succeeded", "closed"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=20)
    out_trade_no = models.CharField(max_length=40, unique=True)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, default=CREATED)
    applied = models.BooleanField(default=False)
    gateway_txn_id = models.CharField(max_length=80, null=True, blank=True)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_txn_id"], name="payment_gateway_txn_unique"
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(applied=True),
                name="one_applied_payment_per_order",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]


class PaymentEvent(models.Model):
    """Append-only log of what happened to a payment (created, notified, captured…)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30)
    key = models.CharField(max_length=160, unique=True, null=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


class Payout(models.Model):
    """Money sent to a person (withdrawals), idempotent on ``payout_no``."""

    payout_no = models.CharField(max_length=40, unique=True)
    gateway = models.CharField(max_length=20)
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, default="created")  # created, succeeded, failed
    gateway_ref = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)


class SandboxRecord(models.Model):
    """The sandbox gateway's own books: what it has charged, refunded and paid out.

    A real gateway would keep these; the sandbox keeps them here so that refunds and
    payouts are idempotent on their numbers exactly as a real one is.
    """

    kind = models.CharField(max_length=10)  # charge, refund, payout, close
    number = models.CharField(max_length=40)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="sandbox_kind_number")
        ]
