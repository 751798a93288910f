from __future__ import annotations

from django.db import models


class Supplier(models.Model):
    name = models.CharField(max_length=100)
    contact = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="suppliers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=60, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    icon = models.CharField(max_length=300, blank=True)
    sort = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    is_active = models.BooleanField(default=True)
    is_virtual = models.BooleanField(default=False)
    sales = models.IntegerField(default=0)
    # Per-product commission override: {"level1_rate_bp", "level2_rate_bp"} or
    # {"level1_fixed", "level2_fixed"} (fen per unit). Empty = the global defaults.
    commission = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title

    @property
    def cover(self) -> str:
        images = list(self.images.all())
        return images[0].url if images else ""


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    url = models.CharField(max_length=300)
    sort = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]


class SKU(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    name = models.CharField(max_length=80)
    price = models.PositiveIntegerField(help_text="retail price, fen")
    supply_price = models.PositiveIntegerField(help_text="what the supplier is paid, fen")
    member_price = models.PositiveIntegerField(null=True, blank=True)
    stock = models.IntegerField(default=0)
    # Every unit the shelf ever received: the first stock plus restocks, less write-offs
    # (an operator setting the stock lower). ``quanzi ledger check`` proves that it equals
    # the shelf plus what orders and channels hold (docs/ledger.md). Null for an SKU made
    # without ``product_create`` / ``product_update``: not tracked.
    stock_received = models.BigIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "SKU"
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="sku_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="sku_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} / {self.name}"
