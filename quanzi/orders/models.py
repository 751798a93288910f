from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    GROUPING = "grouping"
    TO_SHIP = "to_ship"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class Order(models.Model):
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    status_before_refund = models.CharField(max_length=20, blank=True)
    # Which selling mechanic the order came through (normal, group, bargain, membership…)
    # and that mechanic's own reference (a group id, a bargain id…).
    channel = models.CharField(max_length=20, default="normal")
    channel_ref = models.CharField(max_length=40, blank=True)
    commission_enabled = models.BooleanField(default=True)
    total = models.BigIntegerField(help_text="retail value of the lines, fen")
    discount = models.BigIntegerField(default=0, help_text="total - goods paid")
    shipping = models.BigIntegerField(default=0)
    payable = models.BigIntegerField()
    points_used = models.IntegerField(default=0)
    coupon_id = models.BigIntegerField(null=True, blank=True)
    refunded_amount = models.BigIntegerField(default=0)
    address = models.JSONField(default=dict)
    share_token = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=200, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    tracking_no = models.CharField(max_length=60, blank=True)
    cancel_reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    after_sales_ends_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["status", "shipped_at"]),
            models.Index(fields=["status", "after_sales_ends_at"]),
            models.Index(fields=["user", "-id"]),
            models.Index(fields=["channel", "channel_ref"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(payable__gte=0), name="order_payable_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("payable")),
                name="order_refund_within_payable",
            ),
        ]


class OrderLine(models.Model):
    """One SKU on an order, with the price breakdown copied at placement.

    ``paid`` is what the line really paid for its goods (after channel price, coupon and
    points; shipping excluded): refunds and commissions use it, never today's price.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    supplier_id = models.BigIntegerField(null=True)
    title = models.CharField(max_length=120)
    sku_name = models.CharField(max_length=80)
    image = models.CharField(max_length=300, blank=True)
    qty = models.PositiveIntegerField()
    retail_price = models.BigIntegerField()
    unit_price = models.BigIntegerField(help_text="channel price per unit")
    supply_price = models.BigIntegerField()
    coupon_discount = models.BigIntegerField(default=0)
    points_discount = models.BigIntegerField(default=0)
    paid = models.BigIntegerField()
    breakdown = models.JSONField(default=dict)
    refunded_qty = models.PositiveIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(paid__gte=0), name="line_paid_not_negative"),
            models.CheckConstraint(
                condition=models.Q(refunded_qty__lte=models.F("qty")), name="line_refund_qty_within"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("paid")),
                name="line_refund_amount_within",
            ),
        ]

    def share_taken_back(self, share: int) -> int:
        """How much of a share of this line (a commission, say) its refunds take back:
        all of it once the line is refunded in full, else in proportion, rounded down."""
        if self.paid <= 0 or self.refunded_amount >= self.paid:
            return share
        return share * self.refunded_amount // self.paid


class OrderEvent(models.Model):
    """The audit trail of an order's transitions."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class RefundStatus(models.TextChoices):
    REQUESTED = "requested"
    APPROVED = "approved"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"


class Refund(models.Model):
    """A refund of (part of) an order, paid back along the original path.

    Execution is retried until the gateway confirms; the gateway call is idempotent on
    ``refund_no``, so a crash between "marked" and "money sent" is harmless.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        "payments.Payment", null=True, on_delete=models.PROTECT, related_name="refunds"
    )
    refund_no = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, default="customer")  # customer, operator, auto
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    amount = models.BigIntegerField()
    shipping = models.BigIntegerField(default=0)
    lines = models.JSONField(default=list)  # [{"line_id", "qty", "amount"}]
    reason = models.CharField(max_length=200, blank=True)
    restock = models.BooleanField(default=True)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    gateway_refund_id = models.CharField(max_length=80, blank=True)
    # Booked after the order was settled: the money came out of platform revenue, not
    # out of the customer's funds (see docs/ledger.md).
    after_settlement = models.BooleanField(default=False)
    # Paid back outside the gateway by the operator (a refund the gateway could not
    # complete): the proof the operator gave, and who gave it.
    offline_reference = models.CharField(max_length=80, blank=True)
    offline_evidence = models.CharField(max_length=500, blank=True)
    offline_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="refund_amount_not_negative"
            )
        ]
