from django.apps import AppConfig


class PresaleConfig(AppConfig):
    name = "quanzi.presale"
    label = "presale"
    verbose_name = "Co-creation and pre-sales"

    def ready(self) -> None:
        from quanzi.core.demo import register_demo_step
        from quanzi.orders.channels import register_channel, register_observer
        from quanzi.presale.channel import PresaleChannel, PresaleFollower
        from quanzi.presale.demo import demo_step

        register_channel(PresaleChannel())
        register_observer(PresaleFollower())
        register_demo_step(demo_step)
