"""Lottery (抽奖) and share / invite rewards (分享有礼 / 好友裂变)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Lottery(models.Model):
    title = models.CharField(max_length=120)
    cost_points = models.PositiveIntegerField(default=0, help_text="points per paid draw")
    free_draws_per_day = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "lotteries"

    def __str__(self) -> str:
        return self.title


class PrizeKind(models.TextChoices):
    POINTS = "points"
    COUPON = "coupon"
    PRODUCT = "product"
    NONE = "none"  # 谢谢参与


class LotteryPrize(models.Model):
    """One slot of the prize pool. ``stock`` null = unlimited; a prize at 0 drops out."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="prizes")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=PrizeKind.choices)
    weight = models.PositiveIntegerField()
    stock = models.PositiveIntegerField(null=True, blank=True)
    given = models.PositiveIntegerField(default=0)
    points = models.PositiveIntegerField(null=True, blank=True)
    coupon_template_id = models.BigIntegerField(null=True, blank=True)
    sku = models.ForeignKey(
        "catalog.SKU", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sort = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="prize_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DrawStatus(models.TextChoices):
    LOST = "lost"  # drew a "none" slot
    WON = "won"  # points or coupon, delivered at once
    UNCLAIMED = "unclaimed"  # a product waiting for the winner's address
    CLAIMED = "claimed"  # the product's zero-price order exists


class LotteryDraw(models.Model):
    """One draw, logged with what is needed to replay it: the seed, the pool of
    (prize id, weight) it drew from, and the roll in ``[0, sum of weights)``."""

    lottery = models.ForeignKey(Lottery, on_delete=models.PROTECT, related_name="draws")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    prize = models.ForeignKey(
        LotteryPrize, null=True, on_delete=models.PROTECT, related_name="draws"
    )
    kind = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=DrawStatus.choices, default=DrawStatus.LOST)
    seed = models.BigIntegerField()
    pool = models.JSONField(default=list)
    roll = models.BigIntegerField(default=0)
    free = models.BooleanField(default=False)
    cost_points = models.PositiveIntegerField(default=0)
    day = models.DateField()
    coupon_id = models.BigIntegerField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-id"])]


class LotteryDay(models.Model):
    """Free draws one user used in one lottery on one (local) day."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    free_used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lottery", "user", "day"], name="lottery_day_once")
        ]


class RewardKind(models.TextChoices):
    SHARE = "share"  # people brought by the beneficiary's share links
    INVITE = "invite"  # people who signed up with the beneficiary's invite code


class RewardTrigger(models.TextChoices):
    # Refused since rewards became lawful by construction (a sign-up alone may earn
    # nothing of cash value); kept for the closed campaigns that used it.
    REGISTER = "register"
    FIRST_ORDER = "first_order"  # the person's first paid order settles


class RewardCampaign(models.Model):
    title = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=10, choices=RewardKind.choices)
    trigger = models.CharField(max_length=12, choices=RewardTrigger.choices)
    needed = models.PositiveIntegerField(default=1, help_text="people per reward")
    reward_points = models.PositiveIntegerField(null=True, blank=True)
    reward_coupon_template_id = models.BigIntegerField(null=True, blank=True)
    max_per_user = models.PositiveIntegerField(default=0, help_text="0 = no cap")
    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    # Sign-ups up to this user id have been looked at by the scan (see invites.py).
    scanned_user_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(needed__gte=1), name="reward_needed_positive"),
            models.CheckConstraint(
                condition=Q(reward_points__isnull=False)
                | Q(reward_coupon_template_id__isnull=False),
                name="reward_has_something",
            ),
            # Recruitment alone never pays: no live campaign rewards sign-ups.
            models.CheckConstraint(
                condition=Q(is_active=False) | ~Q(trigger="register"),
                name="reward_not_for_sign_up_alone",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} reward {self.pk}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending"  # brought in; waiting for the trigger (first order)
    QUALIFIED = "qualified"  # counts towards the beneficiary's rewards
    HELD = "held"  # risk control wants an operator to look
    DENIED = "denied"  # does not count (own other account, already counted…)


class RewardReferral(models.Model):
    """One person brought in for a campaign, and whether it counts. A person counts at
    most once per campaign, whoever brought it."""

    campaign = models.ForeignKey(RewardCampaign, on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="reward_referrals"
    )
    person = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    reason = models.CharField(max_length=40, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True, help_text="the qualifying order")
    grant = models.ForeignKey(
        "RewardGrant", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    risk_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="reward_person_once")
        ]
        indexes = [models.Index(fields=["campaign", "beneficiary", "status"])]


class GrantStatus(models.TextChoices):
    GRANTED = "granted"
    HELD = "held"  # waiting for an operator
    DENIED = "denied"
    FAILED = "failed"  # the coupon could not be issued (e.g. its stock ran out)


class RewardGrant(models.Model):
    """The n-th reward of one beneficiary in one campaign (one per ``needed`` people)."""

    campaign = models.ForeignKey(RewardCampaign, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=GrantStatus.choices)
    reason = models.CharField(max_length=40, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    coupon_template_id = models.BigIntegerField(null=True, blank=True)
    coupon_id = models.BigIntegerField(null=True, blank=True)
    people = models.JSONField(default=list, help_text="ids of the people this reward is for")
    risk_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    granted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user", "seq"], name="reward_grant_once")
        ]


class RewardTally(models.Model):
    """The row locked while one beneficiary's rewards in one campaign are counted."""

    campaign = models.ForeignKey(RewardCampaign, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    qualified = models.PositiveIntegerField(default=0)
    grants = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="reward_tally_once")
        ]
