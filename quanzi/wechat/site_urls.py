"""WeChat's pages and callbacks, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import include, path

urlpatterns = [
    path("wechat/", include("quanzi.wechat.urls")),
]
