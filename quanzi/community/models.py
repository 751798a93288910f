"""Community group buying (社区团购): leaders, pickup points, waves and their orders."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class ApplicationStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LeaderStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Leader(models.Model):
    """A neighbourhood leader (团长): runs one or more pickup points."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.PROTECT, related_name="community_leader"
    )
    status = models.CharField(
        max_length=10, choices=LeaderStatus.choices, default=LeaderStatus.ACTIVE
    )
    share_code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"leader {self.pk} (user {self.user_id})"


class PointStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class PickupPoint(models.Model):
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="points")
    name = models.CharField(max_length=60)
    address = models.CharField(max_length=200)
    area = models.CharField(max_length=60, blank=True, help_text="delivery route grouping")
    lat = models.FloatField()
    lng = models.FloatField()
    hours = models.CharField(max_length=60, blank=True)
    photo = models.CharField(max_length=300, blank=True)
    capacity = models.PositiveIntegerField(default=0, help_text="bags per wave, 0 = no limit")
    status = models.CharField(
        max_length=10, choices=PointStatus.choices, default=PointStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90) & Q(lat__lte=90) & Q(lng__gte=-180) & Q(lng__lte=180),
                name="pickup_point_coordinates",
            )
        ]

    def snapshot(self) -> dict:
        return {
            "point_id": self.pk,
            "name": self.name,
            "address": self.address,
            "hours": self.hours,
            "lat": self.lat,
            "lng": self.lng,
        }

    def __str__(self) -> str:
        return self.name


class PointPause(models.Model):
    """A date on which the leader takes no orders at the point (holiday, sick day)."""

    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, related_name="pauses")
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["point", "date"], name="point_pause_once_per_day")
        ]


class LeaderApplication(models.Model):
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="leader_applications"
    )
    point = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    reason = models.CharField(max_length=200, blank=True)
    leader = models.ForeignKey(Leader, null=True, blank=True, on_delete=models.PROTECT)
    created_point = models.ForeignKey(
        PickupPoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)


class CustomerPoint(models.Model):
    """The pickup point a customer chose (remembered), and the leader that brought them."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="community_point"
    )
    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="+")
    bound_leader = models.ForeignKey(
        Leader, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bound_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class WaveStatus(models.TextChoices):
    OPEN = "open"
    CLOSED = "closed"


class Wave(models.Model):
    """A daily wave (批次): order until ``cutoff_at``, pick up on ``pickup_date``."""

    title = models.CharField(max_length=80, blank=True)
    sale_date = models.DateField()
    cutoff_at = models.DateTimeField()
    pickup_date = models.DateField()
    pickup_start = models.TimeField(null=True, blank=True)
    pickup_end = models.TimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=WaveStatus.choices, default=WaveStatus.OPEN)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Purchase orders are made once no order of the wave awaits payment any more.
    aggregated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "cutoff_at"])]


class WaveItem(models.Model):
    """One SKU in a wave. ``stock`` units were taken from the SKU's shelf at publication:
    ``stock = remaining + sold + returned + written_off`` at every moment."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    price = models.PositiveIntegerField()
    per_user_limit = models.PositiveIntegerField(default=0, help_text="0 = no limit")
    leader_rate_bp = models.PositiveIntegerField(
        null=True, blank=True, help_text="leader commission on this product (default: global)"
    )
    stock = models.PositiveIntegerField()
    remaining = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)
    returned = models.IntegerField(default=0, help_text="given back to the SKU's shelf")
    written_off = models.IntegerField(default=0, help_text="refunded after the cutoff")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wave", "sku"], name="wave_item_once_per_sku"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(sold__gte=0), name="wave_item_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(stock=F("remaining") + F("sold") + F("returned") + F("written_off")),
                name="wave_item_conserved",
            ),
        ]


class WaveQuota(models.Model):
    """Units one person holds of one wave item (the per-user limit)."""

    item = models.ForeignKey(WaveItem, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    units = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="wave_quota_once"),
            models.CheckConstraint(condition=Q(units__gte=0), name="wave_quota_not_negative"),
        ]


class CommunityOrder(models.Model):
    """What the community channel knows of one order: wave, point and pickup code."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="orders")
    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="orders")
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="orders")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    bound_leader_id = models.BigIntegerField(null=True, blank=True)
    point_snapshot = models.JSONField(default=dict)
    code = models.CharField(max_length=6, blank=True)
    code_active = models.BooleanField(default=False)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["point", "wave"])]
        constraints = [
            models.UniqueConstraint(
                fields=["point", "code"],
                condition=Q(code_active=True),
                name="pickup_code_unique_while_active",
            )
        ]


class Arrival(models.Model):
    """The leader confirmed that a wave's goods reached the point (once)."""

    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="arrivals")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="arrivals")
    shortages = models.JSONField(default=list)  # [{"sku_id", "qty"}]
    confirmed_by_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["point", "wave"], name="arrival_once_per_wave")
        ]


class ShortageRefund(models.Model):
    """Units of one order refunded because the point received less than was ordered.
    ``refund_id`` stays empty until the refund record exists (the order may be busy
    with another refund; the sweep tries again)."""

    arrival = models.ForeignKey(Arrival, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    lines = models.JSONField(default=list)  # [{"line_id", "qty"}]
    refund_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["arrival", "order"], name="shortage_once_per_order")
        ]


class PurchaseOrder(models.Model):
    """What one supplier delivers to the warehouse for one wave."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="purchase_orders")
    supplier_id = models.BigIntegerField(null=True, blank=True)
    supplier_key = models.BigIntegerField(default=0, help_text="supplier id, 0 = the platform")
    total_cost = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wave", "supplier_key"], name="po_once_per_supplier")
        ]


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    qty = models.PositiveIntegerField()
    supply_price = models.BigIntegerField()
    cost = models.BigIntegerField()


class CommunitySettings(models.Model):
    """The operator's community settings (one row)."""

    leader_rate_bp = models.PositiveIntegerField(default=1000)
    unpicked_days = models.PositiveIntegerField(default=3)
    unpicked_action = models.CharField(max_length=10, default="refund")  # refund | remind
    pickup_attempts_per_10min = models.PositiveIntegerField(default=10)
    # Off: the leader alone earns on community orders (level 1). On: the leader's own
    # valid referrer earns level 2 at distribution's level-2 rate. Never a third level.
    leader_upline_level2 = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(leader_rate_bp__lte=5000) & Q(unpicked_action__in=["refund", "remind"]),
                name="community_settings_sane",
            )
        ]

    @classmethod
    def current(cls) -> CommunitySettings:
        return cls.objects.filter(pk=1).first() or cls(pk=1)
