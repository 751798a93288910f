from django.contrib import admin

from quanzi.accounts.models import Address, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "phone",
        "nickname",
        "invite_code",
        "referrer",
        "is_operator",
        "date_joined",
    ]
    search_fields = ["phone", "nickname", "invite_code"]
    exclude = ["password"]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "name", "city", "detail"]
