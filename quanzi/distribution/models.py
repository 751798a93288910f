"""Distribution (分销): distributors, ranks, commissions, withdrawals and shops.

Two levels at most, enforced here by a database constraint on ``Commission.level`` as
well as in the code that computes them (see commission.py).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class DistributorRank(models.Model):
    """A rank (分销等级) the operator configures: reached on the distributor's own sales
    only (never on head count: see ranks.py)."""

    name = models.CharField(max_length=40)
    level = models.PositiveSmallIntegerField(unique=True, help_text="higher is better")
    min_sales = models.BigIntegerField(
        default=0, help_text="settled sales brought as level 1, fen (0 = reached at once)"
    )
    multiplier_bp = models.PositiveIntegerField(
        default=10_000, help_text="commission multiplier, 10000 = ×1"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["level"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(multiplier_bp__lte=50_000) & Q(min_sales__gte=0),
                name="distributor_rank_sane",
            )
        ]

    def __str__(self) -> str:
        return f"{self.level}. {self.name}"


class ProfileStatus(models.TextChoices):
    NONE = "none"  # never applied (qualifies by the operator's rule alone)
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


class DistributorProfile(models.Model):
    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="distributor"
    )
    status = models.CharField(
        max_length=10, choices=ProfileStatus.choices, default=ProfileStatus.NONE
    )
    real_name = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # Where WeChat Pay transfers (商家转账) send this person's withdrawals.
    wechat_openid = models.CharField(max_length=64, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    rank = models.ForeignKey(
        DistributorRank, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sales = models.BigIntegerField(default=0, help_text="settled sales brought as level 1")
    # Set once the distributor reaches the detach rank: its upline's upline no longer
    # earns level 2 on its orders (剥离). Never unset.
    detached_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "applied_at"])]


class CommissionStatus(models.TextChoices):
    FROZEN = "frozen"
    AVAILABLE = "available"
    WITHDRAWN = "withdrawn"
    REVERSED = "reversed"


class Commission(models.Model):
    """What one upline earns on one order line, at one level (1 or 2).

    ``amount`` is fixed at payment; refunds add to ``reversed_amount`` (never more than
    ``amount``); ``settled_amount`` is what went to the upline's available balance (or
    to review, when ``held``) at settlement; paid withdrawals are allocated to records
    oldest first in ``withdrawn_amount``.
    """

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    beneficiary = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="commissions"
    )
    buyer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, default="referrer")  # referrer | share | circle
    base = models.BigIntegerField(help_text="what the line paid (excl. shipping)")
    qty = models.PositiveIntegerField()
    rate_bp = models.PositiveIntegerField(null=True, blank=True)
    fixed = models.BigIntegerField(null=True, blank=True, help_text="fen per unit")
    multiplier_bp = models.PositiveIntegerField(default=10_000)
    capped = models.BooleanField(default=False)
    amount = models.BigIntegerField()
    reversed_amount = models.BigIntegerField(default=0)
    settled_amount = models.BigIntegerField(null=True, blank=True)
    withdrawn_amount = models.BigIntegerField(default=0)
    held = models.BooleanField(default=False, help_text="risk control wants a review")
    hold_reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.FROZEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "level"], name="commission_once_per_level"),
            models.CheckConstraint(condition=Q(level__in=[1, 2]), name="commission_two_levels"),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(reversed_amount__gte=0)
                & Q(reversed_amount__lte=F("amount"))
                & Q(withdrawn_amount__gte=0)
                & Q(withdrawn_amount__lte=F("amount")),
                name="commission_amounts_within",
            ),
            models.CheckConstraint(
                condition=~Q(beneficiary=F("buyer")), name="commission_not_to_buyer"
            ),
        ]
        indexes = [
            models.Index(fields=["beneficiary", "-id"]),
            models.Index(fields=["order"]),
            models.Index(fields=["status", "held"]),
        ]

    @property
    def net(self) -> int:
        return self.amount - self.reversed_amount


class CommissionReversal(models.Model):
    """A refund (or an operator's void) taking back part of a commission."""

    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="reversals")
    refund_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=10, default="refund")  # refund | void
    amount = models.BigIntegerField()
    # Booked as a clawback in the ledger (the commission had been settled already).
    after_settlement = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["commission", "refund_id"],
                condition=Q(refund_id__isnull=False),
                name="commission_reversed_once_per_refund",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reversal_positive"),
        ]


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested"  # waiting for the operator's audit
    APPROVED = "approved"  # payout on its way (or to be retried)
    PROCESSING = "processing"  # the gateway is being asked
    PAID = "paid"
    REJECTED = "rejected"


class Withdrawal(models.Model):
    """A distributor takes money out (提现): ``amount`` leaves the available balance,
    ``amount - fee`` reaches the person, ``fee`` is platform revenue."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED
    )
    auto_approved = models.BooleanField(default=False)
    gateway = models.CharField(max_length=20)
    # Who the gateway pays, fixed at request (``payees``): "openid:<id>" for WeChat Pay,
    # "alipay_user_id:<2088…>" or "alipay_logon_id:<mobile|e-mail>" for Alipay, "user:<id>".
    payee_ref = models.CharField(max_length=120, blank=True)
    # The payee's real name when the gateway needs it (never logged; shown masked).
    payee_name = models.CharField(max_length=40, blank=True)
    payout = models.ForeignKey(
        "payments.Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    reject_reason = models.CharField(max_length=200, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(amount__gt=F("fee")), name="withdrawal_amount_sane"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["user", "created_at"]),
        ]

    @property
    def payout_no(self) -> str:
        return f"WD{self.pk:012d}"


class Shop(models.Model):
    """A shopkeeper's storefront (S2b2c): platform products it selected, sold at the
    platform's unified prices (a shop has no prices of its own)."""

    owner = models.OneToOneField("accounts.User", on_delete=models.PROTECT, related_name="shop")
    name = models.CharField(max_length=40)
    slug = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    products = models.ManyToManyField("catalog.Product", through="ShopProduct", related_name="+")
    # The owner's share link of the shop: orders placed from the shop page carry it.
    share_token = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ShopProduct(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    sort = models.IntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "product"], name="shop_product_once")
        ]
