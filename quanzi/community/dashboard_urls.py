from django.urls import path

from quanzi.community.web import ops

app_name = "community_ops"
urlpatterns = [
    path("", ops.leaders_page, name="leaders"),
    path(
        "applications/<int:application_id>/<str:decision>/",
        ops.application_decide,
        name="application_decide",
    ),
    path("leaders/<int:leader_id>/<str:action>/", ops.leader_action, name="leader_action"),
    path("waves/", ops.waves_page, name="waves"),
    path("waves/sweep/", ops.sweep_now, name="sweep"),
    path("waves/<int:wave_id>/", ops.wave_page, name="wave"),
    path("waves/<int:wave_id>/purchase-orders.csv", ops.purchase_orders_csv, name="po_csv"),
    path("waves/<int:wave_id>/sorting.csv", ops.sorting_csv, name="sorting_csv"),
    path("waves/<int:wave_id>/print/<int:point_id>/", ops.sorting_print, name="print"),
]
