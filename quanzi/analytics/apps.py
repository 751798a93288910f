from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "quanzi.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from quanzi.analytics.labels import register_labels

        register_labels()
