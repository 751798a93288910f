from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class GroupCampaign(models.Model):
    """A group-buying (拼团) campaign set up by the operator on the SKUs of one product."""

    title = models.CharField(max_length=120)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    group_size = models.PositiveIntegerField()
    group_ttl_seconds = models.PositiveIntegerField(help_text="how long one group stays open")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="empty = open-ended")
    per_user_limit = models.PositiveIntegerField(
        help_text="units one person may hold across all their groups of the campaign"
    )
    stock_allotted = models.PositiveIntegerField(help_text="units allotted to the campaign")
    stock = models.IntegerField(help_text="allotted units not yet reserved or sold")
    # 模拟成团: at expiry a group missing at most this many members succeeds (0 = off).
    simulated_fill_max_missing = models.PositiveIntegerField(default=0)
    commission_enabled = models.BooleanField(default=False)
    accepts_coupons = models.BooleanField(default=False)
    accepts_points = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="group_campaign_stock_gte_0"),
            models.CheckConstraint(
                condition=Q(stock__lte=F("stock_allotted")), name="group_campaign_stock_le_allotted"
            ),
            models.CheckConstraint(
                condition=Q(group_size__gte=2) & Q(group_size__lte=100),
                name="group_campaign_size_2_100",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="group_campaign_window",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CampaignSku(models.Model):
    """One SKU of a campaign with its group price and optional leader price (团长价)."""

    campaign = models.ForeignKey(GroupCampaign, on_delete=models.CASCADE, related_name="skus")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    group_price = models.PositiveIntegerField(help_text="fen")
    leader_price = models.PositiveIntegerField(null=True, blank=True, help_text="fen")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sku"], name="campaign_sku_unique"),
            models.CheckConstraint(condition=Q(group_price__gte=1), name="group_price_positive"),
            models.CheckConstraint(
                condition=Q(leader_price__isnull=True) | Q(leader_price__gte=1),
                name="leader_price_positive",
            ),
        ]


class GroupStatus(models.TextChoices):
    PENDING = "pending"  # opened, the leader has not paid yet; invisible to others
    FORMING = "forming"  # the leader paid; friends and strangers may join
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # time ran out: every paid order is refunded
    CANCELLED = "cancelled"  # the leader never paid


class Group(models.Model):
    """One group (团) of a campaign.

    Its places are its active members (paid, or reserved inside their payment window),
    counted under this row's lock whenever someone joins, so a group never holds more than
    ``size`` members. ``paid_count`` (members who paid) changes only under the same lock.
    A cancelled reservation frees its place by updating its member row alone: the payment
    timeout sweep never needs this row's lock, so it never waits on a payment in flight.
    """

    campaign = models.ForeignKey(GroupCampaign, on_delete=models.PROTECT, related_name="groups")
    leader = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=GroupStatus.choices, default=GroupStatus.PENDING
    )
    paid_count = models.PositiveIntegerField(default=0)
    simulated = models.BooleanField(default=False)
    simulated_members = models.PositiveIntegerField(default=0)
    subsidy = models.BigIntegerField(default=0, help_text="fen booked for a simulated fill")
    created_at = models.DateTimeField(auto_now_add=True)
    formed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="set once forming")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["campaign", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_count__lte=F("size")), name="group_paid_within_size"
            ),
        ]

    @property
    def missing(self) -> int:
        return max(0, self.size - self.paid_count - self.simulated_members)


class MemberStatus(models.TextChoices):
    RESERVED = "reserved"  # holds a slot until its order's payment window ends
    PAID = "paid"
    RELEASED = "released"  # never paid: the order was cancelled and the slot freed
    LOST = "lost"  # paid for a slot the group could no longer give: refunded
    REFUNDED = "refunded"


ACTIVE_MEMBER = (MemberStatus.RESERVED, MemberStatus.PAID)


class GroupMember(models.Model):
    """A person's place in a group, tied to the order that pays for it.

    A joiner takes the place first, in a short transaction of its own under the group's
    lock (``channel.slot_take``): the row is then a *hold* with no order and no units
    (``qty`` 0) until ``hold_until``. The order placed right after attaches itself to the
    hold (order, SKU, units), and from then on the order's payment window keeps the place.
    A hold whose order never came (the placement failed or the process died) is released:
    at once by the failed join, or once ``hold_until`` has passed.
    """

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="group_member",
        null=True,
        blank=True,
        help_text="empty while the place is a hold whose order is being placed",
    )
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()
    hold_until = models.DateTimeField(
        null=True, blank=True, help_text="a place without an order is held until then"
    )
    # Units given back to the campaign's allotment and the person's limit (cancel, refund).
    returned_qty = models.PositiveIntegerField(default=0)
    is_leader = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=MemberStatus.choices, default=MemberStatus.RESERVED
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status__in=["reserved", "paid"]),
                name="group_member_once",
            ),
            models.CheckConstraint(
                condition=Q(returned_qty__lte=F("qty")), name="group_member_returned_within_qty"
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False) | Q(hold_until__isnull=False, qty=0),
                name="group_member_hold_has_deadline",
            ),
        ]
        indexes = [
            models.Index(
                fields=["hold_until"],
                condition=Q(order__isnull=True, status="reserved"),
                name="group_member_open_holds",
            ),
        ]


class UserQuota(models.Model):
    """Units a person holds in a campaign, across all their groups (the per-user limit).

    Taken with a conditional ``UPDATE ... WHERE units + qty <= limit``, so concurrent
    joins by one person never pass the limit together.
    """

    campaign = models.ForeignKey(GroupCampaign, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="group_quota_unique"),
        ]
