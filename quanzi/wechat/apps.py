from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "quanzi.wechat"
    label = "wechat"
    verbose_name = "WeChat"

    def ready(self) -> None:
        from quanzi.wechat import hooks

        hooks.register()
