from __future__ import annotations

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import Invalid
from quanzi.core.idempotency import recorded_answer, run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Id, Money, Schema
from quanzi.flash import gate, selectors, services
from quanzi.payments.api import PayIn, PayOut
from quanzi.payments.selectors import payment_out

router = Router(tags=["flash sales"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class FlashItemIn(Schema):
    sku_id: Id
    price: Money = Field(description="the flash price per unit, fen")
    allotment: int = Field(ge=1, le=1_000_000, description="units sold in the sale")


class FlashSaleIn(Schema):
    title: str = Field(max_length=120)
    starts_at: Datetime
    ends_at: Datetime
    per_user_limit: int = Field(default=1, ge=0, le=999, description="units per buyer, 0 = any")
    buckets: int = Field(default=8, ge=1, le=64, description="stock rows per item")
    items: list[FlashItemIn] = Field(min_length=1, max_length=20)


class FlashItemOut(Schema):
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    cover: str
    price: int
    retail_price: int
    allotment: int
    sold: int
    left: int
    sold_out: bool


class FlashSaleOut(Schema):
    id: int
    title: str
    starts_at: Datetime
    ends_at: Datetime
    state: str = Field(description="scheduled | open | ended")
    seconds_to_start: int
    per_user_limit: int
    sold_out: bool
    items: list[FlashItemOut]


class FlashSalePage(Schema):
    items: list[FlashSaleOut]
    next_cursor: str | None


class FlashSaleAdminOut(FlashSaleOut):
    closed_at: Datetime | None
    buckets: int


class FlashSaleAdminPage(Schema):
    items: list[FlashSaleAdminOut]
    next_cursor: str | None


class FlashBuyIn(Schema):
    sku_id: Id
    qty: int = Field(default=1, ge=1, le=999)
    address_id: Id | None = None
    note: str | None = Field(default=None, max_length=200)
    pay: PayIn | None = Field(
        default=None, description="start paying in the same request (sandbox, alipay)"
    )


class FlashQueuedOut(Schema):
    ticket: str = Field(description="poll GET /flash-tickets/{ticket} for the order")
    state: str = Field(description="queued")


class FlashTicketOut(Schema):
    ticket: str
    state: str = Field(description="queued | ordered | refused")
    order_id: int | None
    status: str | None = None
    payable: int | None = None
    pay_before: Datetime | None = None
    code: str | None = Field(description="why a refused ticket was refused (out_of_stock…)")


class FlashBuyOut(Schema):
    order_id: int
    status: str
    payable: int
    pay_before: Datetime
    payment: PayOut | None


def _page(qs, cursor, limit):
    page = paginate(qs, cursor=cursor, limit=limit, serialize=lambda sale: sale)
    page["items"] = selectors.sales_out(page["items"])
    return page


# --- operator --------------------------------------------------------------------------


@router.post("/admin/flash-sales", response={201: FlashSaleAdminOut, **ERRORS})
def sale_create(request, payload: FlashSaleIn):
    require_operator(request)
    sale = services.sale_create(
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        per_user_limit=payload.per_user_limit,
        buckets_per_item=payload.buckets,
        items=[item.dict() for item in payload.items],
    )
    return Status(201, selectors.sale_out(sale))


@router.get("/admin/flash-sales", response={200: FlashSaleAdminPage, **ERRORS})
def sale_admin_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return _page(selectors.sales_all(), cursor, limit)


@router.get("/admin/flash-sales/{flash_sale_id}", response={200: FlashSaleAdminOut, **ERRORS})
def sale_admin_detail(request, flash_sale_id: int):
    require_operator(request)
    return selectors.sale_out(selectors.sale_get(sale_id=flash_sale_id))


@router.post(
    "/admin/flash-sales/{flash_sale_id}/close", response={200: FlashSaleAdminOut, **ERRORS}
)
def sale_close(request, flash_sale_id: int):
    """Close the sale now: the units left go back on their SKUs' shelves."""
    require_operator(request)
    return selectors.sale_out(services.sale_close(sale_id=flash_sale_id))


# --- everyone --------------------------------------------------------------------------


@router.get("/flash-sales", auth=None, response={200: FlashSalePage, 422: ErrorOut})
def sale_list(request, cursor: str | None = None, limit: int | None = None):
    """Sales not over yet, scheduled ones with the seconds left to their start."""
    return _page(selectors.sales_visible(), cursor, limit)


@router.get("/flash-sales/{flash_sale_id}", auth=None, response={200: FlashSaleOut, 404: ErrorOut})
def sale_detail(request, flash_sale_id: int):
    return selectors.sale_out(selectors.sale_get(sale_id=flash_sale_id, public=True))


@router.post(
    "/flash-sales/{flash_sale_id}/orders",
    response={201: FlashBuyOut, 202: FlashQueuedOut, **ERRORS},
)
def sale_buy(request, flash_sale_id: int, payload: FlashBuyIn):
    """Buy at the flash price: `409 flash_not_started`, `out_of_stock`, `limit_exceeded`,
    `flash_ended`. Pay the order like any other (or with `pay` in the same request).

    With the Redis gate in queue mode the answer is `202 {ticket, state: "queued"}`: the
    units are yours and a writer writes the order within seconds; poll
    `GET /flash-tickets/{ticket}` for it (`pay` is refused there: pay the order once the
    ticket shows it)."""
    body = payload.dict()
    if body.get("pay") is None:
        body.pop("pay", None)

    if gate.queued():
        if payload.pay is not None:
            raise Invalid("pay_after_queue", "pay the order once the ticket shows it")

        route = f"POST /flash-sales/{flash_sale_id}/orders"
        # The gate's step is in Redis: the record's transaction cannot undo it. A retry
        # reads the recorded answer first; a twin that lost the race for the key gives
        # its ticket back (only the recorded one is the buyer's).
        replayed = recorded_answer(request, route=route, body=body)
        if replayed is not None:
            return replayed
        taken: list[str] = []

        def queue():
            ticket = services.flash_queue(
                user=request.auth,
                sale_id=flash_sale_id,
                sku_id=payload.sku_id,
                qty=payload.qty,
                address_id=payload.address_id,
            )
            taken.append(ticket.id)
            return Status(202, {"ticket": ticket.id, "state": "queued"})

        answer = None
        try:
            answer = run_idempotent(request, route=route, body=body, work=queue)
        finally:
            kept = answer.value.get("ticket") if answer is not None else None
            for ticket_id in taken:
                if ticket_id != kept:
                    services.ticket_give_back(ticket_id=ticket_id)
        return answer

    def work():
        order, payment = services.flash_buy(
            user=request.auth,
            sale_id=flash_sale_id,
            sku_id=payload.sku_id,
            qty=payload.qty,
            address_id=payload.address_id,
            gateway=payload.pay.gateway if payload.pay is not None else None,
            note=payload.note or "",
        )
        return Status(
            201,
            {
                "order_id": order.pk,
                "status": order.status,
                "payable": order.payable,
                "pay_before": order.expires_at,
                "payment": payment_out(payment) if payment is not None else None,
            },
        )

    return run_idempotent(
        request, route=f"POST /flash-sales/{flash_sale_id}/orders", body=body, work=work
    )


@router.get("/flash-tickets/{ticket_id}", response={200: FlashTicketOut, **ERRORS})
def ticket_detail(request, ticket_id: str):
    """A queued ticket: `queued`, `ordered` (with `order_id`, then pay it) or `refused`
    (with `code`; its units went back)."""
    return selectors.ticket_state(user=request.auth, ticket_id=ticket_id)
