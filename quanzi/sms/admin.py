from django.contrib import admin

from quanzi.sms.models import SmsSend


@admin.register(SmsSend)
class SmsSendAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "topic", "status", "reason", "attempts", "sent_at")
    list_filter = ("status", "topic")
    search_fields = ("key", "phone", "message_id")
    readonly_fields = [f.name for f in SmsSend._meta.fields]
