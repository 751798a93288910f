from django.contrib import admin

from quanzi.rewards.models import (
    Lottery,
    LotteryDraw,
    LotteryPrize,
    RewardCampaign,
    RewardGrant,
    RewardReferral,
)


class PrizeInline(admin.TabularInline):
    model = LotteryPrize
    extra = 0


@admin.register(Lottery)
class LotteryAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "cost_points", "free_draws_per_day", "is_active")
    inlines = [PrizeInline]


@admin.register(LotteryDraw)
class LotteryDrawAdmin(admin.ModelAdmin):
    list_display = ("id", "lottery", "user", "prize", "status", "seed", "roll", "created_at")
    list_filter = ("status",)


@admin.register(RewardCampaign)
class RewardCampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "kind", "trigger", "needed", "is_active")


@admin.register(RewardReferral)
class RewardReferralAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "beneficiary", "person", "status", "reason")
    list_filter = ("status",)


@admin.register(RewardGrant)
class RewardGrantAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "user", "seq", "status", "reason", "points")
    list_filter = ("status",)
