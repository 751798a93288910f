from django.contrib import admin

from quanzi.social.models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("token", "sharer", "target", "target_id", "channel", "depth", "opens")
    list_filter = ("target", "channel")
    raw_id_fields = ("sharer", "parent", "root")

    def has_change_permission(self, request, obj=None):
        return False
