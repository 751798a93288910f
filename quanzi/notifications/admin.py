from django.contrib import admin

from quanzi.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "kind", "title", "read_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("title",)
    raw_id_fields = ("user",)
