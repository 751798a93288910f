from django.contrib import admin

from quanzi.groupbuy.models import CampaignSku, Group, GroupCampaign, GroupMember


class CampaignSkuInline(admin.TabularInline):
    model = CampaignSku
    extra = 0
    raw_id_fields = ("sku",)


@admin.register(GroupCampaign)
class GroupCampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "product", "group_size", "stock", "starts_at", "ends_at")
    list_filter = ("is_active",)
    raw_id_fields = ("product",)
    inlines = [CampaignSkuInline]


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 0
    raw_id_fields = ("user", "order", "sku")
    readonly_fields = ("status", "qty", "returned_qty", "is_leader", "paid_at")


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "status", "size", "paid_count", "expires_at", "simulated")
    list_filter = ("status", "simulated")
    raw_id_fields = ("campaign", "leader")
    readonly_fields = ("paid_count", "subsidy")
    inlines = [GroupMemberInline]
