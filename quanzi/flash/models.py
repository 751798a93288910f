"""Flash sales (限时秒杀): a campaign, its items, the items' stock buckets, per-user quotas
and the orders written through the gate. See docs/flash.md."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class FlashSale(models.Model):
    title = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    per_user_limit = models.PositiveIntegerField(default=1, help_text="units per buyer, 0 = any")
    buckets = models.PositiveSmallIntegerField(default=8, help_text="stock rows per item")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="flash_sale_window"
            ),
        ]

    def __str__(self) -> str:
        return f"flash sale {self.pk} {self.title}"


class FlashItem(models.Model):
    """An SKU in a sale: its price and allotment, taken off the SKU's shelf at creation.
    ``returned`` counts units sent back to the shelf (closing, late cancellations)."""

    sale = models.ForeignKey(FlashSale, on_delete=models.PROTECT, related_name="items")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    price = models.PositiveIntegerField()
    allotment = models.PositiveIntegerField()
    returned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sale", "sku"], name="flash_item_once"),
        ]


class FlashBucket(models.Model):
    """One share of an item's units left: buyers spread over the buckets by a hash of
    their id, so no single row is everyone's lock."""

    item = models.ForeignKey(FlashItem, on_delete=models.CASCADE, related_name="bucket_rows")
    index = models.PositiveSmallIntegerField()
    left = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "index"], name="flash_bucket_once"),
            models.CheckConstraint(condition=Q(left__gte=0), name="flash_bucket_left_gte_0"),
        ]


class FlashQuota(models.Model):
    """Units a buyer holds of an item (orders not cancelled): the per-user limit's row."""

    item = models.ForeignKey(FlashItem, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    units = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="flash_quota_once"),
            models.CheckConstraint(condition=Q(units__gte=0), name="flash_quota_units_gte_0"),
        ]


class FlashOrder(models.Model):
    """An order written through the gate: which buckets gave its units and the gate's
    ticket it consumed (the reconciler looks tickets up here)."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(FlashItem, on_delete=models.PROTECT, related_name="orders")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()
    takes = models.JSONField(default=dict, help_text="bucket index → units taken")
    ticket = models.CharField(max_length=32, blank=True)
    returned = models.BooleanField(default=False, help_text="the order was cancelled")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=~Q(ticket=""), name="flash_order_ticket_once"
            ),
        ]
        indexes = [models.Index(fields=["item", "returned"], name="flash_order_item_live")]
