from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "quanzi.distribution"
    label = "distribution"
