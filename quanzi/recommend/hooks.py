"""Where other apps' events reach this one (registered from ``AppConfig.ready``)."""

from __future__ import annotations

from quanzi.orders.channels import OrderObserver
from quanzi.recommend.events import event_record
from quanzi.recommend.serving import list_forget


class RecommendOrderObserver(OrderObserver):
    """Every paid order line is an ``order`` interaction (written after commit)."""

    def on_paid(self, order) -> None:
        for line in order.lines.all():
            event_record(user_id=order.user_id, product_id=line.product_id, kind="order")
        # What was just bought leaves the stored list (it skips the exclusions).
        list_forget(order.user_id)
