from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "quanzi.marketing"
    label = "marketing"
    verbose_name = "Coupons and points"

    def ready(self) -> None:
        from quanzi.accounts import services as accounts
        from quanzi.marketing.observer import MarketingObserver
        from quanzi.marketing.points import points_deduction
        from quanzi.marketing.services import coupon_apply, coupons_new_user_gift
        from quanzi.orders.channels import register_observer
        from quanzi.orders.hooks import pricing_hooks

        register_observer(MarketingObserver())
        pricing_hooks.coupon = coupon_apply
        pricing_hooks.points = points_deduction
        if coupons_new_user_gift not in accounts.on_registered:
            accounts.on_registered.append(coupons_new_user_gift)

        from quanzi.core.demo import register_demo_step
        from quanzi.marketing.demo import demo_step

        register_demo_step(demo_step)
