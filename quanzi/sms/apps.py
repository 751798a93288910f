from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "quanzi.sms"
    label = "sms"
    verbose_name = "SMS"

    def ready(self) -> None:
        from quanzi.sms import hooks

        hooks.register()
