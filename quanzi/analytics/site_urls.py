"""Pages of analytics, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.analytics.web import views

urlpatterns = [
    path("dashboard/analytics/", views.operator_report, name="analytics_operator"),
    path("dashboard/analytics/mechanics/", views.operator_mechanics, name="analytics_mechanics"),
    path(
        "dashboard/analytics/mechanics/<str:which>.csv",
        views.operator_mechanics_csv,
        name="analytics_mechanics_csv",
    ),
    path("dashboard/analytics/breakdowns/", views.operator_breakdowns, name="analytics_breakdowns"),
    path(
        "dashboard/analytics/breakdowns/<str:which>.csv",
        views.operator_breakdowns_csv,
        name="analytics_breakdowns_csv",
    ),
    path("dashboard/analytics/<str:which>.csv", views.operator_csv, name="analytics_csv"),
    path("analytics/", views.own_report, name="analytics_own"),
    path("analytics/<str:dim>/", views.own_report, name="analytics_own_scope"),
    path("analytics/<str:dim>/<str:which>.csv", views.own_csv, name="analytics_own_csv"),
    path("analytics/<str:dim>/breakdowns/", views.own_breakdowns, name="analytics_own_breakdowns"),
    path(
        "analytics/<str:dim>/breakdowns/<str:which>.csv",
        views.own_breakdowns_csv,
        name="analytics_own_breakdowns_csv",
    ),
]
