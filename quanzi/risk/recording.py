"""Where the identifiers come from: the accounts' model signals, paid orders (an order
observer) and signed-in requests (``RiskSignalMiddleware``)."""

from __future__ import annotations

import time

from django.core.cache import cache

from quanzi.orders.channels import OrderObserver
from quanzi.risk.context import risk_context
from quanzi.risk.models import RiskSignal
from quanzi.risk.signals import (
    address_signals_record,
    client_ip,
    normalise_address,
    signal_record,
    signals_record,
    user_signals_record,
)


def on_user_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    user_signals_record(instance, source="sign_up" if created else "profile")


def on_address_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    address_signals_record(instance, source="address")


class RiskSignalsObserver(OrderObserver):
    """A paid order tells where it goes and which payment account paid it."""

    def on_paid(self, order) -> None:
        pairs = []
        if order.address:
            pairs.append((RiskSignal.ADDRESS, normalise_address(order.address)))
            pairs.append((RiskSignal.PHONE, str(order.address.get("phone", ""))))
        # The payment being captured, when a capture paid the order (no read).
        payment = getattr(order, "paid_with", None)
        if payment is None:
            payment = order.payments.order_by("-id").first()
        if payment is not None:
            ref = (payment.params or {}).get("user_ref") or (payment.params or {}).get("payer")
            if ref:
                pairs.append((RiskSignal.PAYMENT, f"{payment.gateway}:{ref}"))
        signals_record(user_id=order.user_id, pairs=pairs, source="order")


# Which values this process asked the shared cache about in the last minute: a shopper's
# every request would otherwise cost a Redis round trip to learn that its IP was
# recorded within the hour already.
_asked: dict[str, float] = {}
_ASK_AGAIN_SECONDS = 60.0
_ASKED_MAX = 50_000


class RiskSignalMiddleware:
    """Records the IP and the ``X-Device-Id`` of signed-in requests, once an hour per value,
    and keeps them at hand for the risk questions the request asks (``risk.context``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            where = risk_context(
                ip=client_ip(request), device_id=request.headers.get("X-Device-Id", "")
            )
        except Exception:  # noqa: BLE001 - a malformed header tells nothing
            where = risk_context()
        with where:
            response = self.get_response(request)
        try:
            self._record(request)
        except Exception:  # noqa: BLE001 - recording never breaks a request
            pass
        return response

    @staticmethod
    def observe_fast(request) -> None:
        """The same for a request answered by a fast path (``quanzi.core.fastpaths``)."""
        RiskSignalMiddleware._record(None, request)

    def _record(self, request) -> None:
        user = getattr(request, "auth", None)
        if user is None or not getattr(user, "pk", None):
            user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return
        for kind, value in (
            (RiskSignal.IP, client_ip(request)),
            (RiskSignal.DEVICE, request.headers.get("X-Device-Id", "")[:64]),
        ):
            if not value:
                continue
            key = f"risk:sig:{user.pk}:{kind}:{value}"
            now = time.monotonic()
            if _asked.get(key, 0.0) > now:
                continue  # this process asked the shared cache less than a minute ago
            if len(_asked) > _ASKED_MAX:
                _asked.clear()
            _asked[key] = now + _ASK_AGAIN_SECONDS
            if cache.add(key, 1, 3600):
                signal_record(user_id=user.pk, kind=kind, value=value, source="request")
