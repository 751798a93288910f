"""Coupons (优惠券) and points (积分).

Coupons: a ``CouponTemplate`` is what the operator configures (kind, threshold, scope,
validity, total quantity, per-user limit); a ``Coupon`` is one copy held by one user.
The template's ``issued`` counter only moves by a conditional UPDATE (``issued < total``),
backed by a CHECK constraint, so the total holds under concurrent claims.

Points are integers kept in the ledger in their own unit (``PTS``) on the account
``user:<id>:points``; the rows here explain them to the user (``PointsTxn``, one per
movement, with a reason) and track when they expire (``PointsLot``: each credit is a lot,
spending consumes lots oldest-expiry first). For every user: ledger balance = sum of the
movements = what the lots still hold (``quanzi ledger check`` proves it).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class CouponKind(models.TextChoices):
    AMOUNT_OFF = "amount_off"  # 满减 / 无门槛 (threshold 0)
    PERCENT_OFF = "percent_off"  # 折扣, optionally capped


class CouponScope(models.TextChoices):
    ALL = "all"
    PRODUCTS = "products"
    CATEGORIES = "categories"


class CouponTemplate(models.Model):
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=CouponKind.choices)
    amount = models.PositiveIntegerField(default=0, help_text="amount_off: fen taken off")
    percent_bp = models.PositiveIntegerField(default=0, help_text="percent_off: share taken off")
    cap = models.PositiveIntegerField(null=True, blank=True, help_text="percent_off: most fen off")
    threshold = models.PositiveIntegerField(default=0, help_text="eligible lines must reach this")
    scope = models.CharField(max_length=20, choices=CouponScope.choices, default=CouponScope.ALL)
    scope_ids = models.JSONField(default=list, blank=True)
    # Validity: ``valid_days`` after the copy is issued, or the fixed window.
    valid_days = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField()
    issued = models.PositiveIntegerField(default=0)
    per_user_limit = models.PositiveIntegerField(default=1)
    claimable = models.BooleanField(default=True, help_text="shown in the coupon centre")
    new_user_gift = models.BooleanField(default=False, help_text="granted at registration")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(issued__lte=F("total")), name="coupon_template_issued_within_total"
            ),
            models.CheckConstraint(
                condition=Q(percent_bp__lte=10_000), name="coupon_template_percent_within"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    UNUSED = "unused"
    USED = "used"
    EXPIRED = "expired"


class Coupon(models.Model):
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=CouponStatus.choices, default=CouponStatus.UNUSED
    )
    # claim, grant, new_user, membership, or a reward source given by the caller.
    source = models.CharField(max_length=40)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    order_id = models.BigIntegerField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["template", "user"]),
            models.Index(fields=["status", "valid_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="used", order_id__isnull=False) | ~Q(status="used"),
                name="coupon_used_has_order",
            )
        ]


class PointsWallet(models.Model):
    """The per-user row every points movement locks (serializes the user's lots).

    ``owed``: points clawed back on a refund after the user had spent them; later credits
    repay it first (never silently lost, never a negative balance).
    """

    user = models.OneToOneField(
        "accounts.User", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    owed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(owed__gte=0), name="points_owed_not_negative")
        ]


class PointsKind(models.TextChoices):
    EARN = "earn"  # completed order
    SIGN_IN = "sign_in"
    CREDIT = "credit"  # rewards, lottery prizes, operator grants
    SPEND = "spend"  # order deduction
    SPEND_RETURN = "spend_return"  # order cancelled or refunded
    DEBIT = "debit"  # lottery cost and other spending outside orders
    CLAWBACK = "clawback"  # the order that earned them was refunded
    OWED_REPAID = "owed_repaid"
    EXPIRE = "expire"


class PointsTxn(models.Model):
    """One movement of a user's points, as the user sees it (signed: + in, − out)."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=PointsKind.choices)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=60)
    key = models.CharField(max_length=120, unique=True)
    order_id = models.BigIntegerField(null=True, blank=True)
    # Earning: the fen amount the points were computed from (claw-backs scale on it).
    base = models.BigIntegerField(default=0)
    # Claw-back: the points owed back in all; ``amount`` is what could be taken at once,
    # the rest went to the wallet's ``owed``.
    claimed = models.BigIntegerField(default=0)
    # Spending: the lots it consumed, [[lot_id, points], ...].
    lots = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"]),
            models.Index(fields=["order_id", "kind"]),
        ]


class PointsLot(models.Model):
    """Points credited together, expiring together."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    expires_at = models.DateTimeField()
    txn = models.ForeignKey(PointsTxn, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "expires_at"]),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_live"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                name="points_lot_remaining_within",
            )
        ]


class SignIn(models.Model):
    """One daily sign-in (签到); the unique (user, day) makes it once per day."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    points = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="sign_in_once_per_day")]
