"""Where the WeChat app plugs into the rest of Quanzi (called from ``AppConfig.ready``).

The trunk never imports this app: it offers lists and registries, and these functions
are put in them.
"""

from __future__ import annotations

from quanzi.core.tasks import enqueue
from quanzi.orders.channels import OrderObserver
from quanzi.wechat.config import app_for, configured_app_ids
from quanzi.wechat.models import PROVIDERS, Identity


def payer_for(*, user, gateway: str, client: str) -> tuple[str, str] | None:
    """WeChat Pay's payer in the app the cashier opens in: ``("openid:<id>", app_id)``."""
    if gateway != "wechatpay" or client not in dict(PROVIDERS):
        return None
    app = app_for(client)
    if app is None:
        return None
    identity = Identity.objects.filter(user=user, provider=client, app_id=app.app_id).first()
    if identity is None:
        return None
    return f"openid:{identity.openid}", app.app_id


class WechatOrderObserver(OrderObserver):
    """Subscribe messages for shipped orders and for commissions made available at
    settlement. Both only schedule the work after commit: no query in the order's
    transaction."""

    def on_shipped(self, order) -> None:
        enqueue("quanzi.wechat.subscribe.order_shipped_push", order_id=order.pk)

    def on_settled_many(self, orders) -> None:
        ids = [order.pk for order in orders]
        if ids:
            enqueue("quanzi.wechat.subscribe.commissions_available_push", order_ids=ids)


def register() -> None:
    from quanzi.core.moderation import register_text_checker
    from quanzi.payments.gateways import wechatpay
    from quanzi.payments.services import payer_lookups
    from quanzi.wechat.safety import WechatTextChecker

    if payer_for not in payer_lookups:
        payer_lookups.append(payer_for)
    if configured_app_ids not in wechatpay.accepted_app_ids:
        wechatpay.accepted_app_ids.append(configured_app_ids)
    register_text_checker(WechatTextChecker())
    from quanzi.notifications.services import push_channels
    from quanzi.orders.channels import register_observer
    from quanzi.wechat.subscribe import push_notification

    if push_notification not in push_channels:
        push_channels.append(push_notification)
    register_observer(WechatOrderObserver())
