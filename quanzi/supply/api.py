"""The supplier portal and logistics over HTTP: ``/supplier/...`` (role supplier, its own
lines, parcels and money only), ``/admin/suppliers/...`` (operator: statements, payouts,
quality), ``/carriers`` and the aggregator's push ``/logistics/notify/{provider}``.
Thin: parse, call one service, shape the answer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status
from pydantic import Field

from quanzi.catalog.models import Supplier
from quanzi.core.auth import require_operator
from quanzi.core.errors import Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.schemas import Date, Datetime, ErrorOut, Id, Schema
from quanzi.supply import selectors
from quanzi.supply.carriers import CARRIERS
from quanzi.supply.services import money, purchase_orders, shipping
from quanzi.supply.services.suppliers import supplier_for_user
from quanzi.supply.services.tracking import tracking_record
from quanzi.supply.tracking import InvalidPush, TrackingError, get_provider

router = Router(tags=["supply"])
log = get_logger("quanzi.supply")


class CarrierOut(Schema):
    code: str
    name: str
    example: str


class SupplierMeOut(Schema):
    supplier_id: int
    name: str
    owed: int = Field(description="what the platform owes the supplier now, fen")


class LineToShipOut(Schema):
    line_id: int
    order_id: int
    order_no: str
    title: str
    sku_name: str
    qty: int
    supply_price: int
    paid_at: Datetime | None
    ship_by: Datetime | None
    overdue: bool
    address: dict[str, Any]


class ShipIn(Schema):
    carrier: str = Field(min_length=1, max_length=20, description="SF, ZTO, YTO, STO, YD, JD, EMS…")
    tracking_no: str = Field(min_length=1, max_length=40)


class EventOut(Schema):
    time: Datetime
    status: str
    location: str
    text: str


class ShipmentOut(Schema):
    id: int
    order_id: int
    order_no: str
    carrier: str
    carrier_name: str
    tracking_no: str
    status: str
    status_at: Datetime | None
    late: bool
    created_at: Datetime
    line_ids: list[int]
    events: list[EventOut] = []


class POLineOut(Schema):
    sku_id: int
    title: str
    qty: int
    supply_price: int
    cost: int


class PurchaseOrderOut(Schema):
    id: int
    wave_id: int
    wave_title: str
    pickup_date: Date
    total_cost: int
    lines: list[POLineOut]
    delivered_at: Datetime | None
    delivery_note: str


class DeliveryIn(Schema):
    note: str = Field(default="", max_length=200)


class PayableOut(Schema):
    order_id: int
    order_no: str
    settled_at: Datetime
    units: int
    gross: int = Field(description="supply price × quantity, fen")
    refunded: int = Field(description="supply value of the units refunded before settlement")
    payable: int = Field(description="booked on the supplier's payable account: gross − refunded")


class PayablesOut(Schema):
    owed: int
    items: list[PayableOut]


class PeriodIn(Schema):
    start: Date | None = Field(default=None, description="first day (default: this month's)")
    end: Date | None = Field(default=None, description="last day, included (default: today)")


class PayoutOut(Schema):
    id: int
    supplier_id: int
    amount: int
    reference: str
    note: str
    created_at: Datetime


class StatementOut(Schema):
    supplier_id: int
    start: Datetime
    end: Datetime
    opening: int
    orders: int
    gross: int
    refunds: int
    payables: int
    payouts: int
    other: int
    closing: int
    payout_list: list[PayoutOut]


class QualityOut(Schema):
    supplier_id: int
    units_sold: int
    units_refunded: int
    refund_rate_bp: int
    orders: int
    orders_complained: int
    complaint_rate_bp: int
    shipments: int
    late_shipments: int
    overdue_lines: int
    late_rate_bp: int
    reviews: int
    rating: float | None
    name: str = ""


class PayoutIn(Schema):
    amount: int = Field(ge=1, le=10**12, description="fen")
    reference: str = Field(min_length=1, max_length=64, description="the bank transfer's number")
    note: str = Field(default="", max_length=200)


def _period(period: PeriodIn) -> tuple[datetime, datetime]:
    today = timezone.localdate()
    start = period.start or today.replace(day=1)
    end = period.end or today
    if end < start:
        raise Invalid("invalid_period", "the period ends before it starts", {"field": "end"})

    def midnight(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    return midnight(start), midnight(end + timedelta(days=1))


# -- public --------------------------------------------------------------------------


@router.get("/carriers", auth=None, response={200: list[CarrierOut]})
def carriers(request):
    return [{"code": c.code, "name": str(c.name), "example": c.example} for c in CARRIERS.values()]


@router.post(
    "/logistics/notify/{provider}",
    auth=None,
    response={200: None, 400: ErrorOut, 404: ErrorOut},
    description="The carrier aggregator's push (快递100: form fields `param` and `sign`). 200"
    " carries the aggregator's own acknowledgement; 400 `invalid_push`: the signature or the"
    " body does not verify, nothing is stored. Idempotent: a push repeated adds nothing.",
)
def logistics_notify(request, provider: str):
    try:
        adapter = get_provider()
    except TrackingError as exc:
        raise NotFound("unknown_provider", "no such tracking provider") from exc
    if adapter.name != provider or provider == "none":
        raise NotFound("unknown_provider", "no such tracking provider")
    headers = {key: value for key, value in request.headers.items()}
    try:
        report = adapter.verify_push(headers=headers, body=request.body)
    except InvalidPush as exc:
        log.warning("tracking push refused", extra={"provider": provider, "reason": str(exc)})
        raise Invalid("invalid_push", str(exc), status=400) from exc
    tracking_record(report=report)
    status, content_type, body = adapter.ack(True)
    return HttpResponse(body, status=status, content_type=content_type)


# -- supplier ------------------------------------------------------------------------

_S = {403: ErrorOut}


@router.get("/supplier/me", response={200: SupplierMeOut, **_S})
def supplier_me(request):
    supplier = supplier_for_user(request.auth)
    return {
        "supplier_id": supplier.pk,
        "name": supplier.name,
        "owed": money.owed(supplier_id=supplier.pk),
    }


@router.get("/supplier/lines", response={200: list[LineToShipOut], **_S})
def supplier_lines(request):
    supplier = supplier_for_user(request.auth)
    return selectors.lines_to_ship(supplier_id=supplier.pk)


def _shipped(parcel) -> Status:
    parcel.refresh_from_db()
    return Status(201, selectors.shipment_out(parcel))


@router.post(
    "/supplier/lines/{line_id}/ship",
    response={201: ShipmentOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    description="Ship one line of the supplier's as a parcel; the order moves to `shipped`"
    " once all its lines are in parcels. 404 `line_not_found` for another supplier's line.",
)
def supplier_line_ship(request, line_id: Id, payload: ShipIn):
    supplier = supplier_for_user(request.auth)
    parcel = shipping.parcel_ship(
        supplier=supplier,
        line_ids=[line_id],
        carrier=payload.carrier,
        tracking_no=payload.tracking_no,
        actor=request.auth,
    )
    return _shipped(parcel)


@router.post(
    "/supplier/orders/{order_id}/ship",
    response={201: ShipmentOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    description="Ship every unshipped line of the supplier's in this order as one parcel.",
)
def supplier_order_ship(request, order_id: Id, payload: ShipIn):
    supplier = supplier_for_user(request.auth)
    parcel = shipping.parcel_ship(
        supplier=supplier,
        order_id=order_id,
        carrier=payload.carrier,
        tracking_no=payload.tracking_no,
        actor=request.auth,
    )
    return _shipped(parcel)


@router.get("/supplier/shipments", response={200: list[ShipmentOut], **_S})
def supplier_shipments(request):
    supplier = supplier_for_user(request.auth)
    return selectors.shipments_of(supplier_id=supplier.pk)


@router.get("/supplier/purchase-orders", response={200: list[PurchaseOrderOut], **_S})
def supplier_purchase_orders(request):
    supplier = supplier_for_user(request.auth)
    return purchase_orders.purchase_orders_of(supplier_id=supplier.pk)


@router.post(
    "/supplier/purchase-orders/{purchase_order_id}/delivered",
    response={200: PurchaseOrderOut, 403: ErrorOut, 404: ErrorOut},
)
def supplier_po_delivered(request, purchase_order_id: Id, payload: DeliveryIn):
    supplier = supplier_for_user(request.auth)
    purchase_orders.delivery_confirm(
        supplier=supplier, purchase_order_id=purchase_order_id, user=request.auth, note=payload.note
    )
    found = [
        po
        for po in purchase_orders.purchase_orders_of(supplier_id=supplier.pk, limit=10_000)
        if po["id"] == purchase_order_id
    ]
    return found[0]


@router.get("/supplier/payables", response={200: PayablesOut, **_S})
def supplier_payables(request):
    supplier = supplier_for_user(request.auth)
    return {
        "owed": money.owed(supplier_id=supplier.pk),
        "items": money.payables_by_order(supplier_id=supplier.pk),
    }


@router.get("/supplier/statement", response={200: StatementOut, 403: ErrorOut, 422: ErrorOut})
def supplier_statement(request, period: Query[PeriodIn]):
    supplier = supplier_for_user(request.auth)
    start, end = _period(period)
    return money.statement(supplier_id=supplier.pk, start=start, end=end)


@router.get("/supplier/quality", response={200: QualityOut, **_S})
def supplier_quality(request):
    supplier = supplier_for_user(request.auth)
    return selectors.quality(supplier_id=supplier.pk)


# -- operator ------------------------------------------------------------------------


def _supplier(supplier_id: int) -> Supplier:
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise NotFound("supplier_not_found", "no such supplier")
    return supplier


@router.get("/admin/suppliers/quality", response={200: list[QualityOut], 403: ErrorOut})
def admin_supplier_quality(request):
    require_operator(request)
    return selectors.quality_all()


@router.get(
    "/admin/suppliers/{supplier_id}/statement",
    response={200: StatementOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_supplier_statement(request, supplier_id: Id, period: Query[PeriodIn]):
    require_operator(request)
    supplier = _supplier(supplier_id)
    start, end = _period(period)
    return money.statement(supplier_id=supplier.pk, start=start, end=end)


@router.post(
    "/admin/suppliers/{supplier_id}/payouts",
    response={
        200: PayoutOut,
        201: PayoutOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    description="Record a transfer made to the supplier (debits its payable). Idempotent on"
    " `reference`: 201 the first time, 200 with the same payout again; 409"
    " `payout_reference_reused` (another amount) or `payout_exceeds_payable`.",
)
def admin_supplier_payout(request, supplier_id: Id, payload: PayoutIn):
    require_operator(request)
    payout, created = money.payout_record(
        supplier_id=supplier_id,
        amount=payload.amount,
        reference=payload.reference,
        note=payload.note,
        operator=request.auth,
    )
    return Status(201 if created else 200, money.payout_out(payout))
