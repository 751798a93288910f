"""Pages of the supplier portal and the operator's supplier desk, found by ``quanzi/urls.py``."""

from django.urls import path

from quanzi.supply.web import ops, portal

urlpatterns = [
    path("supplier/", portal.home, name="supplier_home"),
    path("supplier/lines/<int:line_id>/ship/", portal.line_ship, name="supplier_line_ship"),
    path(
        "supplier/purchase-orders/<int:po_id>/delivered/",
        portal.po_delivered,
        name="supplier_po_delivered",
    ),
    path("dashboard/supply/", ops.suppliers_page, name="supply_ops"),
    path("dashboard/supply/<int:supplier_id>/payouts/", ops.payout, name="supply_ops_payout"),
]
