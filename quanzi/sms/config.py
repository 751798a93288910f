"""Which SMS provider is configured, and the template of each topic.

``QUANZI_SMS_PROVIDER``: "" (off: no text message is ever made), ``console`` (the log;
every topic has a template named after it unless ``QUANZI_SMS_TEMPLATES`` says
otherwise) or ``tencent`` (Tencent Cloud SMS; needs the secret id and key, the SDK app
id, the signature and a template per topic; a topic without a template is not texted).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from quanzi.core.errors import Invalid
from quanzi.sms.providers import ConsoleProvider, SmsProvider, TencentConfig, TencentProvider

TOPICS = ("orders", "groups", "bargains", "commissions", "promotions", "recommendations")
FIELDS = ("title", "body")


@dataclass(frozen=True)
class Template:
    code: str
    fields: tuple[str, ...] = FIELDS  # what fills the template's variables, in order


def _get(name: str) -> str:
    return str(getattr(settings, f"QUANZI_SMS_{name}", "") or "").strip()


def templates_parse(text: str) -> dict[str, Template]:
    """``orders:1234567,groups:2345678:title`` → {topic: Template}."""
    out: dict[str, Template] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        topic, _, rest = part.partition(":")
        code, _, fields = rest.partition(":")
        names = tuple(f for f in fields.split("+") if f) if fields else FIELDS
        if topic not in TOPICS or not code or any(f not in FIELDS for f in names):
            raise Invalid(
                "invalid_sms_templates",
                f"QUANZI_SMS_TEMPLATES: {part!r} is not topic:template[:title+body]",
            )
        out[topic] = Template(code=code, fields=names)
    return out


def provider_name() -> str:
    return _get("PROVIDER").lower()


def templates() -> dict[str, Template]:
    parsed = templates_parse(_get("TEMPLATES"))
    if provider_name() == "console":
        return {**{t: Template(code=t) for t in TOPICS}, **parsed}
    return parsed


def template_for(topic: str) -> Template | None:
    if not provider_name():
        return None
    return templates().get(topic)


def provider() -> SmsProvider | None:
    """The configured provider, or None (the channel is off)."""
    name = provider_name()
    if name == "console":
        return ConsoleProvider()
    if name == "tencent":
        config = TencentConfig(
            secret_id=_get("SECRET_ID"),
            secret_key=_get("SECRET_KEY"),
            sdk_app_id=_get("SDK_APP_ID"),
            sign_name=_get("SIGN_NAME"),
            region=_get("REGION") or "ap-guangzhou",
            endpoint=_get("ENDPOINT"),
        )
        if not (config.secret_id and config.secret_key and config.sdk_app_id and config.sign_name):
            return None
        return _tencent(config)
    return None


@lru_cache(maxsize=4)
def _tencent(config: TencentConfig) -> TencentProvider:
    return TencentProvider(config)
