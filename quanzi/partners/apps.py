from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "quanzi.partners"
    label = "partners"
    verbose_name = "Partner channels"

    def ready(self) -> None:
        from quanzi.orders.channels import register_channel, register_observer
        from quanzi.partners.channel import PartnerChannel, PartnerGate

        register_channel(PartnerChannel())
        register_observer(PartnerGate())

        from quanzi.partners import labels

        labels.register()

        from quanzi.core.demo import register_demo_step
        from quanzi.partners.demo import demo_step

        register_demo_step(demo_step)
