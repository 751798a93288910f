from django.contrib import admin

from quanzi.community.models import (
    Arrival,
    CommunityOrder,
    Leader,
    LeaderApplication,
    PickupPoint,
    PurchaseOrder,
    Wave,
    WaveItem,
)


@admin.register(Leader)
class LeaderAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "share_code", "created_at")
    list_filter = ("status",)


@admin.register(PickupPoint)
class PickupPointAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "leader", "area", "status")
    list_filter = ("status", "area")


@admin.register(LeaderApplication)
class LeaderApplicationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "created_at")
    list_filter = ("status",)


class WaveItemInline(admin.TabularInline):
    model = WaveItem
    extra = 0
    readonly_fields = ("stock", "remaining", "sold", "returned", "written_off")


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "sale_date", "cutoff_at", "pickup_date", "status")
    inlines = [WaveItemInline]


admin.site.register(CommunityOrder)
admin.site.register(Arrival)
admin.site.register(PurchaseOrder)
