"""Pages of community group buying, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import include, path

urlpatterns = [
    path("dashboard/community/", include("quanzi.community.dashboard_urls")),
    path("community/", include("quanzi.community.urls")),
]
