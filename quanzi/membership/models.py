"""Member levels by growth value, and paid membership plans (会员卡).

* **Growth** (成长值) is the goods money a user really paid (after discounts, excluding
  shipping), recorded per order on payment and reversed by its refunds. Membership fees
  never count. ``MemberProfile.growth`` is the sum of the user's ``GrowthEntry`` rows.
* **Levels** (会员等级) are an operator-edited table: a user is at the highest level whose
  ``min_growth`` its growth reaches. A level gives a discount on retail prices (never
  below the supply price) and a points multiplier.
* **Plans** (年卡, 季卡…) are sold as a virtual product through the normal payment flow
  (the ``membership`` selling channel). Paying activates or extends the user's
  ``Membership``; each purchase is a ``MembershipPeriod``. An active member pays SKUs'
  ``member_price``, may ship free and earns points at the plan's multiplier, and gets
  the plan's coupon every 30 days.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class MemberLevel(models.Model):
    name = models.CharField(max_length=40)
    min_growth = models.BigIntegerField(unique=True)
    discount_bp = models.PositiveIntegerField(default=0, help_text="share taken off retail")
    points_multiplier_bp = models.PositiveIntegerField(default=10_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["min_growth"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_growth__gte=0), name="level_growth_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_bp__lte=9_000), name="level_discount_within"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberProfile(models.Model):
    user = models.OneToOneField(
        "accounts.User", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    growth = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(growth__gte=0), name="growth_not_negative")
        ]


class GrowthEntry(models.Model):
    """One change of growth: + on payment, − on refund. ``key`` makes each happen once."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    order_id = models.BigIntegerField()
    refund_id = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField()
    key = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["order_id"]), models.Index(fields=["user", "-id"])]


class MembershipPlan(models.Model):
    name = models.CharField(max_length=40)
    price = models.PositiveIntegerField()
    duration_days = models.PositiveIntegerField()
    points_multiplier_bp = models.PositiveIntegerField(default=10_000)
    free_shipping = models.BooleanField(default=True)
    monthly_coupon_template_id = models.BigIntegerField(null=True, blank=True)
    # The virtual product the plan is sold as (not listed in the catalog).
    product = models.OneToOneField(
        "catalog.Product", on_delete=models.PROTECT, related_name="membership_plan"
    )
    sku = models.OneToOneField("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="plan_price_positive"),
            models.CheckConstraint(condition=Q(duration_days__gt=0), name="plan_duration_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    ACTIVE = "active"
    EXPIRED = "expired"


class Membership(models.Model):
    """A user's paid membership: the plan bought last and when the paid time ends.

    ``started_at`` is when the current unbroken run of paid time began (renewing before
    the end keeps it; buying again after expiry starts a new run)."""

    user = models.OneToOneField("accounts.User", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]


class MembershipPeriod(models.Model):
    """The paid time one order bought (revoked when the order is refunded)."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="+")
    order_id = models.BigIntegerField(unique=True)
    days = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class MonthlyCouponGrant(models.Model):
    """One month's member coupon; the unique key makes the sweep grant it once."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="+")
    run_started_at = models.DateTimeField()
    month = models.PositiveIntegerField()
    coupon_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "run_started_at", "month"], name="monthly_coupon_once"
            )
        ]
