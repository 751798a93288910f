from django.apps import AppConfig


class GroupbuyConfig(AppConfig):
    name = "quanzi.groupbuy"
    label = "groupbuy"
    verbose_name = "Group buying"

    def ready(self) -> None:
        from quanzi.catalog.extensions import register_product_extra
        from quanzi.groupbuy.channel import GroupChannel, GroupSubsidy
        from quanzi.groupbuy.selectors import product_extra
        from quanzi.orders.channels import register_channel, register_observer

        register_channel(GroupChannel())
        register_observer(GroupSubsidy())
        register_product_extra(product_extra)

        from quanzi.core.demo import register_demo_step
        from quanzi.groupbuy.demo import demo_step

        register_demo_step(demo_step)

        from quanzi.groupbuy.fastpath import register

        register()  # a join's refusals, answered in front of Django (quanzi/wsgi.py)
