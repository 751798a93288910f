"""Order reads, shaped for the API and the pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from quanzi.orders.models import Order, OrderLine, Refund


def orders_of(*, user_id: int, status: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.filter(user_id=user_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def order_out(order: Order, *, lines=None) -> dict:
    """The API's view of an order; ``lines`` when the caller holds them already."""
    return {
        "id": order.pk,
        "status": order.status,
        "channel": order.channel,
        "channel_ref": order.channel_ref,
        "total": order.total,
        "discount": order.discount,
        "shipping": order.shipping,
        "payable": order.payable,
        "points_used": order.points_used,
        "coupon_id": order.coupon_id,
        "refunded_amount": order.refunded_amount,
        "address": order.address,
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "completed_at": order.completed_at,
        "after_sales_ends_at": order.after_sales_ends_at,
        "lines": [
            {
                "id": line.pk,
                "sku_id": line.sku_id,
                "product_id": line.product_id,
                "title": line.title,
                "sku_name": line.sku_name,
                "image": line.image,
                "qty": line.qty,
                "unit_price": line.unit_price,
                "retail_price": line.retail_price,
                "paid": line.paid,
                "breakdown": line.breakdown,
                "refunded_qty": line.refunded_qty,
                "refunded_amount": line.refunded_amount,
            }
            for line in (order.lines.all() if lines is None else lines)
        ],
    }


def refund_out(refund: Refund) -> dict:
    return {
        "id": refund.pk,
        "order_id": refund.order_id,
        "status": refund.status,
        "kind": refund.kind,
        "amount": refund.amount,
        "shipping": refund.shipping,
        "lines": refund.lines,
        "reason": refund.reason,
        "created_at": refund.created_at,
        "succeeded_at": refund.succeeded_at,
        "offline_reference": refund.offline_reference,
    }
