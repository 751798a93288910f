from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "quanzi.membership"
    label = "membership"
