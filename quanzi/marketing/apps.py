from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "quanzi.marketing"
    label = "marketing"
