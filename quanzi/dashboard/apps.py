from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "quanzi.dashboard"
    label = "dashboard"
