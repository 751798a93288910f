from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "quanzi.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from quanzi.orders import checks  # noqa: F401 - registers ledger invariants
