from django.apps import AppConfig


class RecommendConfig(AppConfig):
    name = "quanzi.recommend"
    label = "recommend"
    verbose_name = "Recommendations and opt-in push"

    def ready(self) -> None:
        from quanzi.catalog.extensions import register_page_section, register_product_section
        from quanzi.orders.channels import register_observer
        from quanzi.recommend import labels, receivers
        from quanzi.recommend.hooks import RecommendOrderObserver
        from quanzi.recommend.views import friends_bought_section, picked_section

        register_observer(RecommendOrderObserver())
        register_product_section(friends_bought_section)
        register_page_section("home", picked_section)
        register_page_section("order_paid", picked_section)
        labels.register()
        receivers.connect()
        from quanzi.notifications.services import push_gates
        from quanzi.recommend.push import channel_gate

        if channel_gate not in push_gates:
            push_gates.append(channel_gate)
