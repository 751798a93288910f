from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "quanzi.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from quanzi.payments import checks  # noqa: F401 - registers ledger invariants
