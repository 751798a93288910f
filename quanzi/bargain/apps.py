from django.apps import AppConfig


class BargainConfig(AppConfig):
    name = "quanzi.bargain"
    label = "bargain"
