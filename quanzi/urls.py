from django.contrib import admin
from django.urls import include, path, re_path

from quanzi.core import views as core_views
from quanzi.core.api import api
from quanzi.social import views as social_views

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", core_views.api_not_found),  # JSON, never the storefront's HTML page
    path("healthz", core_views.healthz),
    path("readyz", core_views.readyz),
    path("django-admin/", admin.site.urls),
    path("dashboard/community/", include("quanzi.community.dashboard_urls")),
    path("dashboard/", include("quanzi.dashboard.urls")),
    path("community/", include("quanzi.community.urls")),
    path("s/<str:token>", social_views.share_open, name="share_open"),
    path("wechat/", include("quanzi.wechat.urls")),
    path("", include("quanzi.storefront.urls")),
]
