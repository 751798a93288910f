from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "quanzi.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from quanzi.analytics.demo import demo_step
        from quanzi.analytics.labels import register_labels
        from quanzi.analytics.page_views import product_view_section
        from quanzi.catalog.extensions import register_product_section
        from quanzi.core.demo import register_demo_step

        register_labels()
        register_demo_step(demo_step)
        register_product_section(product_view_section)
