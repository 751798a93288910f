"""Writes of analytics: recording a view or an add-to-cart (the facts job reads them)."""

from __future__ import annotations

from quanzi.analytics.models import TrafficEvent

# A client names how the visitor arrived; an order's own mechanics are decided by the order.
TRAFFIC_CHANNELS = {"direct", "share", "group", "bargain", "membership", "community", "note"}


def traffic_record(
    *,
    kind: str,
    visitor: str,
    user_id: int | None = None,
    product_id: int | None = None,
    channel: str = "direct",
    share_token: str = "",
    leader_id: int | None = None,
    creator_id: int | None = None,
) -> TrafficEvent:
    """One view or add-to-cart. A signed-in person counts as ``u:<id>`` whatever device
    they use; otherwise the client's own visitor id (``s:<id>``). A share token of a
    shop's link attributes the visit to that shop."""
    from quanzi.distribution.models import Shop

    shop_id = None
    if share_token:
        shop_id = Shop.objects.filter(share_token=share_token).values_list("pk", flat=True).first()
        if channel == "direct":
            channel = "share"
    return TrafficEvent.objects.create(
        kind=kind,
        visitor=f"u:{user_id}" if user_id else f"s:{visitor}"[:64],
        user_id=user_id,
        product_id=product_id,
        channel=channel if channel in TRAFFIC_CHANNELS else "direct",
        shop_id=shop_id,
        leader_id=leader_id,
        creator_id=creator_id,
    )
