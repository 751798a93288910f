"""The order state machine of DESIGN.md: every transition is listed here and guarded."""

from __future__ import annotations

from django.utils import timezone

from quanzi.core.errors import InvalidTransition
from quanzi.orders.models import Order, OrderEvent
from quanzi.orders.models import Status as S

AFTER_PAYMENT = {S.PAID, S.GROUPING, S.TO_SHIP, S.SHIPPED, S.DELIVERED, S.PICKED_UP, S.COMPLETED}

TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.GROUPING, S.TO_SHIP, S.REFUNDING},
    S.GROUPING: {S.TO_SHIP, S.REFUNDING},
    S.TO_SHIP: {S.SHIPPED, S.PICKED_UP, S.REFUNDING},
    S.SHIPPED: {S.DELIVERED, S.COMPLETED, S.REFUNDING},
    S.DELIVERED: {S.COMPLETED, S.REFUNDING},
    S.PICKED_UP: {S.COMPLETED, S.REFUNDING},
    S.COMPLETED: {S.REFUNDING},
    S.REFUNDING: {S.REFUNDED} | AFTER_PAYMENT,
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}

_STAMPS = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


def transition(
    order: Order,
    target: str,
    *,
    actor_id: int | None = None,
    note: str = "",
    save: bool = True,
    events: list[OrderEvent] | None = None,
) -> Order:
    """Move a locked order to ``target`` or raise ``invalid_transition``.

    With ``events``, the event is appended there unsaved (the caller writes the order
    and its events at once); otherwise it is written now.
    """
    current = order.status
    if not can_transition(current, target):
        raise InvalidTransition(
            "invalid_transition",
            f"an order that is {current} cannot become {target}",
            {"from": current, "to": target, "order_id": order.pk},
        )
    if target == S.REFUNDING:
        order.status_before_refund = current
    elif current == S.REFUNDING and target != S.REFUNDED:
        if target != order.status_before_refund:
            raise InvalidTransition(
                "invalid_transition",
                f"a refunding order returns to {order.status_before_refund}, not {target}",
                {"from": current, "to": target, "order_id": order.pk},
            )
        order.status_before_refund = ""
    order.status = target
    stamp = _STAMPS.get(target)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, timezone.now())
    if save:
        order.save()
    event = OrderEvent(
        order=order, from_status=current, to_status=target, actor_id=actor_id, note=note[:200]
    )
    if events is None:
        event.save()
    else:
        events.append(event)
    return order
