from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "quanzi.distribution"
    label = "distribution"
    verbose_name = "Distribution"

    def ready(self) -> None:
        from quanzi.distribution.commission import DistributionObserver
        from quanzi.orders.channels import register_observer

        register_observer(DistributionObserver())
