from django.apps import AppConfig


class BargainConfig(AppConfig):
    name = "quanzi.bargain"
    label = "bargain"
    verbose_name = "Bargaining"

    def ready(self) -> None:
        from quanzi.bargain.channel import BargainChannel, BargainSubsidy
        from quanzi.orders.channels import register_channel, register_observer

        register_channel(BargainChannel())
        register_observer(BargainSubsidy())

        from quanzi.bargain.demo import demo_step
        from quanzi.core.demo import register_demo_step

        register_demo_step(demo_step)
