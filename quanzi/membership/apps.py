from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "quanzi.membership"
    label = "membership"
    verbose_name = "Membership"

    def ready(self) -> None:
        from quanzi.membership.channel import MembershipChannel, MembershipObserver
        from quanzi.membership.selectors import member_terms
        from quanzi.orders.channels import register_channel, register_observer
        from quanzi.orders.hooks import pricing_hooks

        register_channel(MembershipChannel())
        register_observer(MembershipObserver())
        pricing_hooks.member_terms = member_terms

        from quanzi.core.demo import register_demo_step
        from quanzi.membership.demo import demo_step

        register_demo_step(demo_step)
