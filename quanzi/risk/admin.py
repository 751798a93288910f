from django.contrib import admin

from quanzi.risk.models import RiskEvent


@admin.register(RiskEvent)
class RiskEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "user_id", "counterpart_id", "action", "reason", "created_at")
    list_filter = ("action", "kind")
    search_fields = ("subject", "device_id")
