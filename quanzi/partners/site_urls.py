"""Pages of partner channels, found by ``quanzi/urls.py`` (it imports no feature app).

``/p/<code>``: a partner code starts with a letter, so it never takes a product's
``/p/<id>``."""

from django.urls import path, re_path

from quanzi.partners import dashboard_views as dash
from quanzi.partners import views

CODE = r"(?P<code>[a-z][a-z0-9-]{1,31})"

urlpatterns = [
    re_path(rf"^p/{CODE}$", views.landing, name="partner_landing"),
    re_path(rf"^p/{CODE}/buy$", views.buy, name="partner_buy"),
    path("dashboard/partners/", dash.partners, name="partners_dash"),
    path("dashboard/partners/<int:partner_id>/", dash.partner, name="partners_dash_partner"),
    path("dashboard/partners/<int:partner_id>/report/", dash.report, name="partners_dash_report"),
    path(
        "dashboard/partners/<int:partner_id>/report.csv",
        dash.report_csv,
        name="partners_dash_report_csv",
    ),
    path(
        "dashboard/partners/<int:partner_id>/<str:action>/",
        dash.partner_action,
        name="partners_dash_action",
    ),
]
