from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "quanzi.community"
    label = "community"
    verbose_name = "Community group buying"

    def ready(self) -> None:
        from quanzi.community.channel import CommunityChannel, LeaderCommission
        from quanzi.core.demo import register_demo_step
        from quanzi.orders.channels import register_channel, register_observer

        register_channel(CommunityChannel())
        register_observer(LeaderCommission())

        from quanzi.community.demo import demo_step

        register_demo_step(demo_step)
