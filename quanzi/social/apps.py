from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "quanzi.social"
    label = "social"
