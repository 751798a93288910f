from __future__ import annotations

from typing import Any, Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.catalog.models import SKU
from quanzi.core.auth import require_operator
from quanzi.core.errors import Invalid, NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema
from quanzi.orders import refunds, refunds_offline, selectors, services
from quanzi.orders.channels import channel_for
from quanzi.orders.hooks import order_details_of
from quanzi.orders.models import Order, Refund
from quanzi.orders.quotes import sku_quote
from quanzi.orders.selectors import order_out, refund_out
from quanzi.payments.api import PayIn, PayOut
from quanzi.payments.selectors import payment_out
from quanzi.payments.services import order_checkout

router = Router(tags=["orders"])


class ItemIn(Schema):
    sku_id: Id
    qty: int = Field(ge=1, le=999)


class OrderIn(Schema):
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    channel: str = Field(
        default="normal",
        max_length=20,
        description="the selling channel: `normal`, or `community` (with `wave_id` and"
        " `pickup_point_id`, no address)",
    )
    wave_id: Id | None = None
    pickup_point_id: Id | None = None
    address_id: Id | None = None
    coupon_id: Id | None = None
    points: int = Field(default=0, ge=0, le=100_000_000)
    share_token: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=200)
    pay: PayIn | None = Field(
        default=None,
        description="Start paying in the same request (gateways that sign locally:"
        " sandbox, alipay); the answer's `payment` is what POST /orders/{id}/pay returns.",
    )


class LineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    image: str
    qty: int
    unit_price: int
    retail_price: int
    paid: int
    breakdown: dict[str, int]
    refunded_qty: int
    refunded_amount: int


class OrderOut(Schema):
    id: int
    status: str
    channel: str
    channel_ref: str
    total: int
    discount: int
    shipping: int
    payable: int
    points_used: int
    coupon_id: int | None
    refunded_amount: int
    address: dict[str, Any]
    carrier: str
    tracking_no: str
    created_at: Datetime
    expires_at: Datetime
    paid_at: Datetime | None
    shipped_at: Datetime | None
    completed_at: Datetime | None
    after_sales_ends_at: Datetime | None
    lines: list[LineOut]
    pickup: dict[str, Any] | None = Field(
        default=None,
        description="community orders: `{point_id, wave_id, point, pickup_date, code, ...}`;"
        " the code is given once the order is paid",
    )
    tracking: dict[str, Any] | None = Field(
        default=None,
        description="shipped orders: `{status, shipments: [{carrier, tracking_no, status,"
        " events: [{time, status, location, text}]}]}`, latest event first",
    )


class CheckoutOut(OrderOut):
    payment: PayOut | None = None


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class ShipIn(Schema):
    carrier: str = Field(min_length=1, max_length=40)
    tracking_no: str = Field(min_length=1, max_length=60)


class RefundLineIn(Schema):
    line_id: Id
    qty: int = Field(ge=1, le=999)


class RefundIn(Schema):
    lines: list[RefundLineIn] | None = Field(default=None, max_length=50)
    reason: str = Field(default="", max_length=200)


class RefundOut(Schema):
    id: int
    order_id: int
    status: str
    kind: str
    amount: int
    shipping: int
    lines: list[dict[str, int]]
    reason: str
    created_at: Datetime
    succeeded_at: Datetime | None
    offline_reference: str = Field(
        default="", description="set when the operator paid the refund back outside the gateway"
    )


class RefundPage(Schema):
    items: list[RefundOut]
    next_cursor: str | None


class OfflineIn(Schema):
    reference: str = Field(
        max_length=80, description="the offline payment's reference (bank transfer number…)"
    )
    evidence: str = Field(max_length=500, description="how and when the money was paid back")


class RejectIn(Schema):
    reason: str = Field(default="", max_length=200)


def _described(order: Order, answer: dict) -> dict:
    """The order's channel adds its own fields (a community order's pickup)."""
    if order.channel != "normal":
        answer.update(channel_for(order.channel).describe(order))
    for detail, value in order_details_of(order):  # what feature apps add (tracking)
        answer[detail.key] = value
    return answer


def _order_answer(order_id: int) -> dict:
    order = Order.objects.prefetch_related("lines").get(pk=order_id)
    return _described(order, order_out(order))


class QuoteOut(Schema):
    sku_id: int
    channel: str
    retail: int = Field(description="list price per unit, fen")
    price: int = Field(description="what the caller pays per unit in this channel, fen")
    saving: int = Field(description="retail − price, fen")
    kind: str = Field(description="retail | member | group | leader | bargain")


@router.get(
    "/skus/{sku_id}/quote",
    response={200: QuoteOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="What the caller pays for one unit of a SKU",
)
def sku_quote_get(
    request,
    sku_id: int,
    channel: Literal["normal", "group", "bargain"] = "normal",
    campaign_id: int | None = None,
    group_id: int | None = None,
    bargain_id: int | None = None,
):
    """The unit price the product page, the cart and checkout show this caller, before
    coupons and points: the member price for a member, the leader price for whoever
    opens a group (``channel=group&campaign_id=…``), a joiner's group price
    (``group_id=…``), a bargain's current price (``channel=bargain&bargain_id=…``)."""
    sku = SKU.objects.filter(pk=sku_id, is_active=True, product__is_active=True).first()
    if sku is None:
        raise NotFound("sku_not_found", "no such item on sale")
    extra = {
        key: value
        for key, value in (
            ("campaign_id", campaign_id),
            ("group_id", group_id),
            ("bargain_id", bargain_id),
        )
        if value is not None
    }
    quote = sku_quote(user=request.auth, sku=sku, channel=channel, extra=extra)
    return {
        "sku_id": sku.pk,
        "channel": channel,
        "retail": quote.retail,
        "price": quote.price,
        "saving": quote.saving,
        "kind": quote.kind,
    }


@router.post("/orders", response={201: CheckoutOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def order_create(request, payload: OrderIn):
    body = payload.dict()
    # A body without ``pay`` (or a channel) hashes as before the field existed: keys
    # stay valid.
    if body.get("pay") is None:
        body.pop("pay", None)
    if payload.channel == "normal":
        for key in ("channel", "wave_id", "pickup_point_id"):
            body.pop(key, None)
    elif not getattr(channel_for(payload.channel), "public_checkout", False):
        raise Invalid(
            "unknown_channel", f"orders of channel {payload.channel} have their own endpoint"
        )
    place = {
        "user": request.auth,
        "items": [item.dict() for item in payload.items],
        "address_id": payload.address_id,
        "coupon_id": payload.coupon_id,
        "points": payload.points,
        "share_token": payload.share_token or "",
        "note": payload.note or "",
    }
    if payload.channel != "normal":
        place["channel"] = payload.channel
        place["extra"] = {"wave_id": payload.wave_id, "pickup_point_id": payload.pickup_point_id}

    def work():
        payment = None
        if payload.pay is None:
            order = services.order_place(**place)
        else:
            order, payment = order_checkout(gateway=payload.pay.gateway, **place)
        answer = _described(order, order_out(order, lines=order.placed_lines))
        answer["payment"] = payment_out(payment) if payment is not None else None
        return Status(201, answer)

    return run_idempotent(request, route="POST /orders", body=body, work=work)


@router.get("/orders", response={200: OrderPage, 422: ErrorOut})
def order_list(
    request, cursor: str | None = None, limit: int | None = None, status: str | None = None
):
    qs = selectors.orders_of(user_id=request.auth.pk, status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=order_out)


@router.get("/orders/{order_id}", response={200: OrderOut, 404: ErrorOut})
def order_detail(request, order_id: int):
    order = services.order_get_for_user(user=request.auth, order_id=order_id)
    return _order_answer(order.pk)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, 404: ErrorOut, 409: ErrorOut})
def order_cancel(request, order_id: int):
    services.order_cancel(order_id=order_id, actor=request.auth, reason="user")
    return _order_answer(order_id)


@router.post(
    "/orders/{order_id}/confirm-receipt", response={200: OrderOut, 404: ErrorOut, 409: ErrorOut}
)
def order_confirm(request, order_id: int):
    services.order_confirm_receipt(order_id=order_id, user=request.auth)
    return _order_answer(order_id)


@router.post(
    "/orders/{order_id}/refunds",
    response={201: RefundOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def refund_create(request, order_id: int, payload: RefundIn):
    body = payload.dict()

    def work():
        lines = [line.dict() for line in payload.lines] if payload.lines is not None else None
        refund = refunds.refund_request(
            order_id=order_id, user=request.auth, lines=lines, reason=payload.reason
        )
        return Status(201, refund_out(refund))

    return run_idempotent(request, route=f"POST /orders/{order_id}/refunds", body=body, work=work)


@router.get("/orders/{order_id}/refunds", response={200: list[RefundOut], 404: ErrorOut})
def refund_list(request, order_id: int):
    order = services.order_get_for_user(user=request.auth, order_id=order_id)
    return [refund_out(r) for r in Refund.objects.filter(order=order).order_by("id")]


# --- operator -----------------------------------------------------------------


@router.get("/admin/orders", response={200: OrderPage, 403: ErrorOut, 422: ErrorOut})
def admin_order_list(
    request,
    cursor: str | None = None,
    limit: int | None = None,
    status: str | None = None,
    user_id: int | None = None,
):
    require_operator(request)
    qs = Order.objects.prefetch_related("lines")
    if status:
        qs = qs.filter(status=status)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return paginate(qs, cursor=cursor, limit=limit, serialize=order_out)


@router.post(
    "/admin/orders/{order_id}/ship",
    response={200: OrderOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_order_ship(request, order_id: int, payload: ShipIn):
    operator = require_operator(request)
    services.order_ship(
        order_id=order_id, carrier=payload.carrier, tracking_no=payload.tracking_no, actor=operator
    )
    return _order_answer(order_id)


@router.post(
    "/admin/orders/{order_id}/refunds",
    response={201: RefundOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_refund_create(request, order_id: int, payload: RefundIn):
    operator = require_operator(request)
    body = payload.dict()

    def work():
        lines = [line.dict() for line in payload.lines] if payload.lines is not None else None
        refund = refunds.refund_operator_create(
            order_id=order_id, lines=lines, reason=payload.reason, operator=operator
        )
        return Status(201, refund_out(Refund.objects.get(pk=refund.pk)))

    return run_idempotent(
        request, route=f"POST /admin/orders/{order_id}/refunds", body=body, work=work
    )


@router.get("/admin/refunds", response={200: RefundPage, 403: ErrorOut, 422: ErrorOut})
def admin_refund_list(
    request, cursor: str | None = None, limit: int | None = None, status: str | None = None
):
    require_operator(request)
    qs = Refund.objects.all()
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=refund_out)


@router.post(
    "/admin/refunds/{refund_id}/approve",
    response={200: RefundOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_refund_approve(request, refund_id: int):
    operator = require_operator(request)
    refunds.refund_approve(refund_id=refund_id, operator=operator)
    return refund_out(Refund.objects.get(pk=refund_id))


@router.post(
    "/admin/refunds/{refund_id}/reject",
    response={200: RefundOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def admin_refund_reject(request, refund_id: int, payload: RejectIn):
    operator = require_operator(request)
    refunds.refund_reject(refund_id=refund_id, operator=operator, reason=payload.reason)
    return refund_out(Refund.objects.get(pk=refund_id))


@router.post(
    "/admin/refunds/{refund_id}/complete-manually",
    response={200: RefundOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_refund_complete_manually(request, refund_id: int, payload: OfflineIn):
    """Complete a refund the gateway cannot (e.g. WeChat ``ABNORMAL``) as paid offline."""
    operator = require_operator(request)
    refunds_offline.refund_complete_offline(
        refund_id=refund_id,
        operator=operator,
        reference=payload.reference,
        evidence=payload.evidence,
    )
    return refund_out(Refund.objects.get(pk=refund_id))
