from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "quanzi.circles"
    label = "circles"
    verbose_name = "Circles"

    def ready(self) -> None:
        from quanzi.circles.deals import CircleDealGate, owner_claim
        from quanzi.distribution.commission import register_level1_claim
        from quanzi.orders.channels import register_observer

        register_observer(CircleDealGate())

        from quanzi.circles import labels

        labels.register()
        register_level1_claim(owner_claim)

        from quanzi.circles.feed import members_only_reader
        from quanzi.content.readers import register_reader_filter

        register_reader_filter(members_only_reader)

        from quanzi.circles.members import SHARE_PATH, SHARE_TARGET, circle_shareable
        from quanzi.social.targets import register_share_target

        register_share_target(SHARE_TARGET, circle_shareable, path=SHARE_PATH)

        from quanzi.circles.deals import coupon_claim_check
        from quanzi.marketing.services import register_claim_check

        register_claim_check(coupon_claim_check)

        from quanzi.circles.demo import demo_step
        from quanzi.core.demo import register_demo_step

        register_demo_step(demo_step)
