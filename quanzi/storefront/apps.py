from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "quanzi.storefront"
    label = "storefront"
    verbose_name = "Storefront (H5)"

    def ready(self) -> None:
        from quanzi.core.demo import register_demo_step

        register_demo_step(demo_storefront)


def demo_storefront(ctx: dict) -> None:
    """The demo shop shows the banners that ship with the demo images."""
    from quanzi.core.platform_settings import settings_update

    settings_update(
        patch={
            "storefront": {
                "banners": ["/static/demo/banner1.jpg", "/static/demo/banner2.jpg"],
                "notice": "演示商城：使用沙箱支付，不会产生真实扣款。",
            }
        }
    )
