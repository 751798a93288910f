from django.contrib import admin

from quanzi.wechat.models import Identity, SubscribeConsent, SubscribeSend, UnionAccount


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "provider", "app_id", "openid", "unionid", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("openid", "unionid", "user__phone", "user__nickname")
    exclude = ("session_key_enc",)
    readonly_fields = ("user", "provider", "app_id", "openid", "unionid", "session_at")


@admin.register(UnionAccount)
class UnionAccountAdmin(admin.ModelAdmin):
    list_display = ("id", "unionid", "user", "created_at")
    search_fields = ("unionid",)
    readonly_fields = ("unionid", "user")


@admin.register(SubscribeConsent)
class SubscribeConsentAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "template_id", "long_term", "remaining", "updated_at")
    raw_id_fields = ("user",)


@admin.register(SubscribeSend)
class SubscribeSendAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "topic", "status", "reason", "attempts", "errcode", "created_at")
    list_filter = ("status", "topic")
    search_fields = ("key",)
    raw_id_fields = ("user",)
