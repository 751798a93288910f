from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "quanzi.risk"
    label = "risk"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from quanzi.accounts.models import Address, User
        from quanzi.orders.channels import register_observer
        from quanzi.risk.recording import RiskSignalsObserver, on_address_saved, on_user_saved
        from quanzi.risk.reviews import register_builtin_handlers

        post_save.connect(on_user_saved, sender=User, dispatch_uid="risk_user_signals")
        post_save.connect(on_address_saved, sender=Address, dispatch_uid="risk_address_signals")
        register_observer(RiskSignalsObserver())
        register_builtin_handlers()
