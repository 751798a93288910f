"""Payment gateways behind one interface (see ``base.Gateway``)."""

from __future__ import annotations

from django.conf import settings

from quanzi.core.errors import Invalid
from quanzi.payments.gateways.base import Gateway

_factories = {
    "sandbox": "quanzi.payments.gateways.sandbox.SandboxGateway",
    "wechatpay": "quanzi.payments.gateways.wechatpay.WechatPayGateway",
    "alipay": "quanzi.payments.gateways.alipay.AlipayGateway",
}
_instances: dict[str, Gateway] = {}


def gateway_names() -> list[str]:
    return list(_factories)


def get_gateway(name: str) -> Gateway:
    if name not in _factories:
        raise Invalid("unknown_gateway", f"no payment gateway named {name}")
    if name == "sandbox" and not settings.SANDBOX_ENABLED:
        raise Invalid("gateway_disabled", "the sandbox gateway is off in production")
    instance = _instances.get(name)
    if instance is None:
        from quanzi.core.tasks import resolve

        instance = resolve(_factories[name])()
        if not instance.configured():
            raise Invalid("gateway_not_configured", f"the {name} gateway is not configured")
        _instances[name] = instance
    return instance


def reset_gateways() -> None:
    """Forget configured instances (tests change gateway settings)."""
    _instances.clear()
