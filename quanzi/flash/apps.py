from django.apps import AppConfig


class FlashConfig(AppConfig):
    name = "quanzi.flash"
    label = "flash"
    verbose_name = "Flash sales"

    def ready(self) -> None:
        from quanzi.flash.channel import FlashChannel
        from quanzi.orders.channels import register_channel

        register_channel(FlashChannel())
