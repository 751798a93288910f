"""Where the SMS app plugs into the rest of Quanzi (called from ``AppConfig.ready``): the
inbox's push channels and an order observer. The trunk never imports this app."""

from __future__ import annotations

from quanzi.core.tasks import enqueue
from quanzi.orders.channels import OrderObserver
from quanzi.sms.config import template_for


class SmsOrderObserver(OrderObserver):
    """Texts for shipped orders and for commissions made available at settlement; both
    only schedule the work after commit (no query in the order's transaction)."""

    def on_shipped(self, order) -> None:
        if template_for("orders") is not None:
            enqueue("quanzi.sms.channel.order_shipped_sms", order_id=order.pk)

    def on_settled_many(self, orders) -> None:
        ids = [order.pk for order in orders]
        if ids and template_for("commissions") is not None:
            enqueue("quanzi.sms.channel.commissions_available_sms", order_ids=ids)


def register() -> None:
    from quanzi.notifications.services import push_channels
    from quanzi.orders.channels import register_observer
    from quanzi.sms.channel import push_notification

    if push_notification not in push_channels:
        push_channels.append(push_notification)
    register_observer(SmsOrderObserver())
