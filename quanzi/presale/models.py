"""Co-creation (proposals and votes) and pre-sales (预售) with their bookings."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProposalStatus(models.TextChoices):
    OPEN = "open"
    HELD = "held"  # waiting for moderation; seen by its author and the operator only
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PRESALE = "presale"  # turned into a pre-sale


class Proposal(models.Model):
    KINDS = ("product", "variant")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    kind = models.CharField(max_length=10, default="product")
    # The existing product a variant (colour, flavour, bundle) is proposed for.
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=80)
    body = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, default=ProposalStatus.OPEN, db_index=True)
    moderation_reasons = models.JSONField(default=list, blank=True)
    votes = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-votes"])]


class Vote(models.Model):
    """One vote per person per proposal: ``key`` is ``"<proposal>:<user>"``, the unique
    constraint (one column, so that a vote is one ``INSERT … ON CONFLICT (key) DO
    NOTHING`` and no other unique index can race it)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="vote_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Mode(models.TextChoices):
    DEPOSIT = "deposit"  # 定金 + 尾款
    THRESHOLD = "threshold"  # ships only if enough units are paid by the deadline


class UnpaidRule(models.TextChoices):
    FORFEIT = "forfeit"
    REFUND = "refund"


class PresaleStatus(models.TextChoices):
    OPEN = "open"
    SUCCEEDED = "succeeded"  # threshold met (or, deposit mode, the balance window closed)
    FAILED = "failed"  # threshold not met: every payment refunded
    CANCELLED = "cancelled"  # by the operator: every payment refunded


class Presale(models.Model):
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="presales"
    )
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    mode = models.CharField(max_length=10)
    price = models.PositiveIntegerField()  # the pre-sale price of one unit, fen
    per_user_limit = models.PositiveIntegerField(default=0)  # units per buyer, 0 = any
    starts_at = models.DateTimeField()  # public start
    early_starts_at = models.DateTimeField(null=True, blank=True)  # voters may buy from here
    voter_coupon_template = models.ForeignKey(
        "marketing.CouponTemplate", null=True, blank=True, on_delete=models.PROTECT
    )
    # Deposit mode: deposits are taken until the balance window opens.
    deposit = models.PositiveIntegerField(default=0)  # paid per unit
    deposit_value = models.PositiveIntegerField(default=0)  # taken off the price (膨胀)
    balance_starts_at = models.DateTimeField(null=True, blank=True)
    balance_ends_at = models.DateTimeField(null=True, blank=True)
    unpaid_rule = models.CharField(max_length=10, default=UnpaidRule.FORFEIT)
    # Threshold mode.
    threshold_units = models.PositiveIntegerField(default=0)
    deadline = models.DateTimeField(null=True, blank=True)
    threshold_met_at = models.DateTimeField(null=True, blank=True)
    # Units paid and not refunded (threshold mode: full orders; deposit mode: deposits).
    paid_units = models.IntegerField(default=0)
    status = models.CharField(max_length=10, default=PresaleStatus.OPEN, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deposit_value__gte=models.F("deposit")),
                name="presale_deposit_value_covers_deposit",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=models.F("deposit_value")),
                name="presale_price_covers_deposit_value",
            ),
        ]

    @property
    def sales_end(self):
        return self.balance_starts_at if self.mode == Mode.DEPOSIT else self.deadline


class BookingStatus(models.TextChoices):
    PENDING = "pending"  # first order (deposit or full) not paid yet
    PAID = "paid"  # deposit paid (deposit mode) / order paid (threshold mode)
    COMPLETED = "completed"  # balance paid (deposit mode)
    FORFEITED = "forfeited"  # balance not paid in the window, deposit kept
    REFUNDED = "refunded"
    CANCELLED = "cancelled"  # first order never paid


class Booking(models.Model):
    """One purchase of a pre-sale: its first order (the deposit, or the full price in
    threshold mode) and, in deposit mode, its balance order. ``units_held`` are the
    units it took from the SKU's shelf and has not given back."""

    presale = models.ForeignKey(Presale, on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()
    first_order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="presale_first"
    )
    balance_order = models.OneToOneField(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="presale_balance",
    )
    status = models.CharField(max_length=10, default=BookingStatus.PENDING, db_index=True)
    units_held = models.PositiveIntegerField(default=0)
    settled_note = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class VoterGrant(models.Model):
    """A voter's coupon for a pre-sale, given once."""

    presale = models.ForeignKey(Presale, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    coupon_id = models.BigIntegerField(null=True, blank=True)
    failure = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["presale", "user"], name="presale_one_grant_per_voter")
        ]
