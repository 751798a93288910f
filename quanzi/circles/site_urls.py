"""Pages of circles, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.circles import dashboard_views as dash
from quanzi.circles import views

urlpatterns = [
    path("circles/", views.circle_list, name="circles"),
    path("circles/<int:circle_id>/", views.circle_page, name="circle"),
    path("circles/<int:circle_id>/join", views.circle_join, name="circle_join"),
    path("circles/<int:circle_id>/leave", views.circle_leave, name="circle_leave"),
    path("circles/<int:circle_id>/invite", views.circle_invite, name="circle_invite"),
    path("circles/<int:circle_id>/announce", views.announce, name="circle_announce"),
    path("circles/<int:circle_id>/buy/", views.circle_buy, name="circle_buy"),
    path("circles/<int:circle_id>/members/", views.circle_members, name="circle_members"),
    path(
        "circles/<int:circle_id>/members/<int:user_id>/<str:action>",
        views.member_action,
        name="circle_member_action",
    ),
    path("circles/<int:circle_id>/health/", views.circle_health, name="circle_health"),
    path("me/circles/", views.my_circles, name="my_circles"),
    path("dashboard/circles/", dash.circles, name="circles_dash"),
    path("dashboard/circles/labels/", dash.labels, name="circles_dash_labels"),
    path(
        "dashboard/circles/labels/<int:label_id>/toggle/",
        dash.label_toggle,
        name="circles_dash_label_toggle",
    ),
    path("dashboard/circles/owners/", dash.owners, name="circles_dash_owners"),
    path(
        "dashboard/circles/owners/<int:user_id>/<str:decision>/",
        dash.owner_decide,
        name="circles_dash_owner_decide",
    ),
    path("dashboard/circles/<int:circle_id>/health/", dash.health, name="circles_dash_health"),
    path(
        "dashboard/circles/<int:circle_id>/<str:action>/",
        dash.circle_status,
        name="circles_dash_status",
    ),
]
