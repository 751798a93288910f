from django.urls import path

from quanzi.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
]
