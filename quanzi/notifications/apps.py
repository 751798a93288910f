from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "quanzi.notifications"
    label = "notifications"
