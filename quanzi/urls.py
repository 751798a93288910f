import importlib

from django.apps import apps
from django.contrib import admin
from django.urls import include, path, re_path

from quanzi.core import views as core_views
from quanzi.core.api import api, redoc, redoc_script
from quanzi.social import views as social_views


def _feature_pages() -> list:
    """Pages a feature app ships in its ``site_urls`` module (the trunk imports no app)."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("quanzi."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.site_urls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.site_urls":
                raise
            continue
        found.append(path("", include(module.urlpatterns)))
    return found


urlpatterns = [
    path("api/v1/redoc", redoc, name="api-redoc"),
    path("api/v1/redoc.js", redoc_script, name="api-redoc-script"),
    path("api/v1/", api.urls),
    re_path(r"^api/", core_views.api_not_found),  # JSON, never the storefront's HTML page
    path("healthz", core_views.healthz),
    path("readyz", core_views.readyz),
    path("django-admin/", admin.site.urls),
    path("dashboard/", include("quanzi.dashboard.urls")),
    path("s/<str:token>", social_views.share_open, name="share_open"),
    *_feature_pages(),
    path("", include("quanzi.storefront.urls")),
]
