from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class BuyMode(models.TextChoices):
    ANY_PRICE = "any_price"  # the owner may buy at the current price at any time
    FLOOR_ONLY = "floor_only"  # only once the floor price is reached


class BargainCampaign(models.Model):
    """A friend-bargaining (砍价) campaign on one SKU, set up by the operator."""

    title = models.CharField(max_length=120, blank=True)
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    start_price = models.PositiveIntegerField(help_text="fen")
    floor_price = models.PositiveIntegerField(help_text="fen; may be 0")
    helpers_min = models.PositiveIntegerField()
    helpers_max = models.PositiveIntegerField()
    ttl_seconds = models.PositiveIntegerField(help_text="how long one bargain stays open")
    per_user_limit = models.PositiveIntegerField(default=1, help_text="bargains per user")
    helps_per_day = models.PositiveIntegerField(
        default=3, help_text="helps one helper may give in this campaign per day"
    )
    # A brand-new user's cut is this share of a normal cut (10000 = no bonus, 20000 = ×2).
    new_user_cut_bp = models.PositiveIntegerField(default=20_000)
    stock = models.PositiveIntegerField(help_text="units allotted to the campaign")
    buy_mode = models.CharField(max_length=12, choices=BuyMode.choices, default=BuyMode.ANY_PRICE)
    accepts_coupon = models.BooleanField(default=False)
    accepts_points = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start_price__gt=F("floor_price")), name="bargain_start_above_floor"
            ),
            models.CheckConstraint(
                condition=Q(helpers_min__gte=1) & Q(helpers_max__gte=F("helpers_min")),
                name="bargain_helpers_range",
            ),
            models.CheckConstraint(condition=Q(stock__gte=0), name="bargain_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title or f"bargain campaign {self.pk}"


class BargainStatus(models.TextChoices):
    OPEN = "open"
    FLOOR_REACHED = "floor_reached"
    ORDERED = "ordered"  # an order at the current price waits for payment
    BOUGHT = "bought"
    EXPIRED = "expired"


class Bargain(models.Model):
    """One customer's bargain: the price friends cut from ``start_price`` to the floor.

    ``seed`` and ``helpers_target`` are fixed at start; every cut is a pure function of
    (seed, cut number, remaining, helpers left), so the history can be replayed.
    """

    campaign = models.ForeignKey(BargainCampaign, on_delete=models.PROTECT, related_name="bargains")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="bargains")
    attempt = models.PositiveIntegerField(help_text="the user's n-th bargain in the campaign")
    seed = models.BigIntegerField()
    helpers_target = models.PositiveIntegerField()
    helpers_count = models.PositiveIntegerField(default=0)
    start_price = models.PositiveIntegerField()
    floor_price = models.PositiveIntegerField()
    current_price = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=BargainStatus.choices, default=BargainStatus.OPEN
    )
    order_id = models.BigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    floor_reached_at = models.DateTimeField(null=True, blank=True)
    bought_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "user", "attempt"], name="bargain_attempt_once"
            ),
            models.CheckConstraint(
                condition=Q(current_price__gte=F("floor_price"))
                & Q(current_price__lte=F("start_price")),
                name="bargain_price_within_range",
            ),
            models.CheckConstraint(
                condition=Q(helpers_count__lte=F("helpers_target")),
                name="bargain_helpers_within_target",
            ),
        ]


class BargainHelp(models.Model):
    """One friend's cut. ``seq`` is the cut number k (1-based) fed to the cut function."""

    bargain = models.ForeignKey(Bargain, on_delete=models.CASCADE, related_name="helps")
    helper = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    cut = models.PositiveIntegerField()
    price_after = models.PositiveIntegerField()
    boost_bp = models.PositiveIntegerField(default=10_000, help_text="new-user bonus applied")
    new_user = models.BooleanField(default=False)
    risk_reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bargain", "helper"], name="bargain_help_once"),
            models.UniqueConstraint(fields=["bargain", "seq"], name="bargain_help_seq_once"),
            models.CheckConstraint(condition=Q(cut__gte=1), name="bargain_cut_at_least_1"),
        ]


class HelperDay(models.Model):
    """How many helps one helper gave in one campaign on one (local) day."""

    campaign = models.ForeignKey(BargainCampaign, on_delete=models.CASCADE, related_name="+")
    helper = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "helper", "day"], name="bargain_helper_day_once"
            )
        ]
