"""Pages of recommendations, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.recommend import views

urlpatterns = [
    path("me/recommendations/", views.picked_page, name="recommend_picked"),
    path("me/push-settings/", views.push_settings_page, name="recommend_push_settings"),
]
