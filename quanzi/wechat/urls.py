from django.urls import path

from quanzi.wechat import views

app_name = "wechat"
urlpatterns = [
    path("oauth/", views.oauth_start, name="oauth_start"),
    path("oauth/callback", views.oauth_callback, name="oauth_callback"),
]
