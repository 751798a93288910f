from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "quanzi.ledger"
    label = "ledger"
    verbose_name = "Ledger"
