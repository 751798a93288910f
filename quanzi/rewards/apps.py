from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "quanzi.rewards"
    label = "rewards"
    verbose_name = "Lottery and share rewards"

    def ready(self) -> None:
        from quanzi.accounts.services import on_registered
        from quanzi.rewards.invites import rewards_on_registered

        if rewards_on_registered not in on_registered:
            on_registered.append(rewards_on_registered)
        from quanzi.orders.channels import register_channel, register_observer
        from quanzi.rewards.channel import LotteryChannel, RewardsObserver

        register_channel(LotteryChannel())
        register_observer(RewardsObserver())

        from quanzi.core.demo import register_demo_step
        from quanzi.rewards.demo import demo_step

        register_demo_step(demo_step)
