"""Pages of risk control, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.risk import views

urlpatterns = [
    path("dashboard/risk/", views.reviews, name="risk_reviews"),
    path("dashboard/risk/rules/", views.rules, name="risk_rules"),
    path("dashboard/risk/<int:event_id>/<str:decision>/", views.review_decide, name="risk_decide"),
]
