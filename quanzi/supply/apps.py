from django.apps import AppConfig


class SupplyConfig(AppConfig):
    name = "quanzi.supply"
    label = "supply"
    verbose_name = "Suppliers and logistics"

    def ready(self) -> None:
        from quanzi.core.demo import register_demo_step
        from quanzi.orders.channels import register_observer
        from quanzi.orders.hooks import register_order_detail
        from quanzi.supply.demo import demo_step
        from quanzi.supply.labels import register_texts
        from quanzi.supply.observer import ShipmentFollower
        from quanzi.supply.selectors import order_tracking

        register_observer(ShipmentFollower())
        register_order_detail(
            key="tracking", describe=order_tracking, template="supply/_order_tracking.html"
        )
        register_texts()
        register_demo_step(demo_step)
