from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "quanzi.risk"
    label = "risk"
