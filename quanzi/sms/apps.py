from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "quanzi.sms"
    label = "sms"
    verbose_name = "SMS"

    def ready(self) -> None:
        from django.core import checks

        from quanzi.sms import hooks
        from quanzi.sms.checks import sms_settings_check

        hooks.register()
        checks.register(sms_settings_check)
