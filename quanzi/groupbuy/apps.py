from django.apps import AppConfig


class GroupbuyConfig(AppConfig):
    name = "quanzi.groupbuy"
    label = "groupbuy"
