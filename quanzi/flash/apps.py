from django.apps import AppConfig


class FlashConfig(AppConfig):
    name = "quanzi.flash"
    label = "flash"
    verbose_name = "Flash sales"

    def ready(self) -> None:
        from quanzi.flash.channel import FlashChannel
        from quanzi.orders.channels import register_channel

        register_channel(FlashChannel())

        from quanzi.core.demo import register_demo_step
        from quanzi.flash.demo import demo_step

        register_demo_step(demo_step)

        from quanzi.flash.fastpath import register

        register()  # the gate's request, answered in front of Django (quanzi/wsgi.py)
