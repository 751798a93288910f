from django.contrib import admin
from django.urls import include, path

from quanzi.core import views as core_views
from quanzi.core.api import api, redoc, redoc_script
from quanzi.social import views as social_views

urlpatterns = [
    path("api/v1/redoc", redoc, name="api-redoc"),
    path("api/v1/redoc.js", redoc_script, name="api-redoc-script"),
    path("api/v1/", api.urls),
    path("healthz", core_views.healthz),
    path("readyz", core_views.readyz),
    path("django-admin/", admin.site.urls),
    path("dashboard/", include("quanzi.dashboard.urls")),
    path("s/<str:token>", social_views.share_open, name="share_open"),
    path("", include("quanzi.storefront.urls")),
]
