"""Pages of flash sales, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.flash import web

urlpatterns = [
    path("flash/", web.shop, name="flash_shop"),
    path("flash/<int:sale_id>/<int:sku_id>/buy/", web.buy, name="flash_buy"),
    path("flash/tickets/<str:ticket_id>/", web.ticket, name="flash_ticket"),
    path("dashboard/flash/", web.ops, name="flash_ops"),
    path("dashboard/flash/<int:sale_id>/close/", web.ops_close, name="flash_ops_close"),
]
