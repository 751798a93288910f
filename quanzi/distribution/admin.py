from django.contrib import admin

from quanzi.distribution.models import (
    Commission,
    DistributorProfile,
    DistributorRank,
    Shop,
    Withdrawal,
)


@admin.register(DistributorRank)
class DistributorRankAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "min_sales", "multiplier_bp")


@admin.register(DistributorProfile)
class DistributorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "rank", "sales", "detached_at")
    list_filter = ("status",)
    raw_id_fields = ("user",)


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    """Read only: commissions change through orders, refunds and withdrawals."""

    list_display = ("id", "order", "level", "beneficiary", "amount", "reversed_amount", "status")
    list_filter = ("status", "level", "held")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    """Read only: withdrawals are audited through the operator API and dashboard."""

    list_display = ("id", "user", "amount", "fee", "status", "created_at", "paid_at")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "slug", "owner", "is_active")
    raw_id_fields = ("owner",)
