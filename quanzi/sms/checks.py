"""Start-up checks of the SMS settings (``manage.py check`` and every server start): a
misspelt provider or template list is an error before any text is due, not a log line
at every message."""

from __future__ import annotations

from django.core.checks import Error, Warning

from quanzi.core.errors import QuanziError
from quanzi.sms import config

PROVIDERS = ("", "console", "tencent")


def sms_settings_check(app_configs=None, **kwargs) -> list:
    problems: list = []
    name = config.provider_name()
    if name not in PROVIDERS:
        problems.append(
            Error(
                f"QUANZI_SMS_PROVIDER={name!r} is not one of console, tencent (or empty: off)",
                id="quanzi.sms.E001",
            )
        )
    try:
        templates = config.templates_parse(config._get("TEMPLATES"))
    except QuanziError as exc:
        problems.append(Error(exc.message, id="quanzi.sms.E002"))
        templates = {}
    if name == "tencent":
        missing = [
            f"QUANZI_SMS_{key}"
            for key in ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME")
            if not config._get(key)
        ]
        if missing:
            problems.append(
                Warning(f"SMS is off: {', '.join(missing)} not set", id="quanzi.sms.W001")
            )
        if not templates:
            problems.append(
                Warning("SMS is off: QUANZI_SMS_TEMPLATES names no template", id="quanzi.sms.W002")
            )
    return problems
