"""Co-creation and pre-sales under ``/api/v1/presale/…`` and ``/api/v1/admin/presale/…``."""

from __future__ import annotations

from typing import Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.idempotency import run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Id, Money, Schema
from quanzi.payments.api import PayIn, PayOut
from quanzi.payments.selectors import payment_out
from quanzi.presale import selectors
from quanzi.presale.services import proposals, sales

router = Router(tags=["pre-sales"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _viewer(request):
    """The signed-in person on endpoints anyone may read (session or bearer token)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from quanzi.accounts.services import token_authenticate

        return token_authenticate(raw=header.removeprefix("Bearer ").strip())
    return None


class ProposalIn(Schema):
    kind: Literal["product", "variant"] = "product"
    product_id: Id | None = Field(default=None, description="the product of a variant")
    title: str = Field(min_length=1, max_length=80)
    body: str = Field(default="", max_length=2000)


class ProposalOut(Schema):
    id: int
    kind: str
    product_id: int | None
    title: str
    body: str
    status: str = Field(description="open | held | accepted | rejected | presale")
    votes: int
    author: str
    voted: bool | None = Field(description="whether the signed-in caller voted; null if anonymous")
    presale_id: int | None
    created_at: Datetime


class ProposalPage(Schema):
    items: list[ProposalOut]
    next_cursor: str | None


class VotesOut(Schema):
    proposal_id: int
    votes: int
    voted: bool


class DecideIn(Schema):
    decision: Literal["accept", "reject", "publish"]


class PresaleIn(Schema):
    mode: Literal["deposit", "threshold"]
    sku_id: Id
    proposal_id: Id | None = Field(default=None, description="the winning proposal, if any")
    title: str = Field(default="", max_length=120)
    price: Money = Field(description="the pre-sale price per unit, fen")
    per_user_limit: int = Field(default=0, ge=0, le=999)
    starts_at: Datetime
    early_starts_at: Datetime | None = Field(
        default=None, description="voters of the proposal may buy from here (early access)"
    )
    voter_coupon_template_id: Id | None = Field(
        default=None, description="each voter of the proposal gets one coupon of it, once"
    )
    deposit: Money = Field(default=0, description="deposit mode: paid per unit")
    deposit_value: Money | None = Field(
        default=None, description="deposit mode: taken off the price (膨胀; ≥ deposit)"
    )
    balance_starts_at: Datetime | None = None
    balance_ends_at: Datetime | None = None
    unpaid_rule: Literal["forfeit", "refund"] = "forfeit"
    threshold_units: int = Field(default=0, ge=0, le=1_000_000)
    deadline: Datetime | None = None


class PresaleOut(Schema):
    id: int
    title: str
    mode: str
    status: str = Field(description="open | succeeded | failed | cancelled")
    state: str = Field(
        description="scheduled | deposit | balance | selling | closed: what a buyer may do"
    )
    proposal_id: int | None
    sku_id: int
    product_id: int
    sku_name: str
    retail_price: int
    price: int
    per_user_limit: int
    starts_at: Datetime
    early_starts_at: Datetime | None
    deposit: int
    deposit_value: int
    balance_due: int
    balance_starts_at: Datetime | None
    balance_ends_at: Datetime | None
    unpaid_rule: str
    threshold_units: int
    deadline: Datetime | None
    paid_units: int
    threshold_met: bool


class PresalePage(Schema):
    items: list[PresaleOut]
    next_cursor: str | None


class PresaleAdminOut(PresaleOut):
    units_by_status: dict[str, int]
    voter_coupon_template_id: int | None
    closed_at: Datetime | None


class PresaleAdminPage(Schema):
    items: list[PresaleAdminOut]
    next_cursor: str | None


class PresaleOrderIn(Schema):
    phase: Literal["deposit", "balance", "full"] = Field(
        description="deposit (deposit mode), balance (of booking_id), full (threshold mode)"
    )
    qty: int = Field(default=1, ge=1, le=999)
    booking_id: Id | None = Field(default=None, description="the deposit a balance pays for")
    address_id: Id | None = None
    coupon_id: Id | None = None
    note: str | None = Field(default=None, max_length=200)
    pay: PayIn | None = Field(
        default=None, description="start paying in the same request (sandbox, alipay)"
    )


class PresaleOrderOut(Schema):
    order_id: int
    booking_id: int | None
    status: str
    payable: int
    pay_before: Datetime
    payment: PayOut | None


class BookingOut(Schema):
    id: int
    presale_id: int
    qty: int
    status: str = Field(description="pending | paid | completed | forfeited | refunded | cancelled")
    first_order_id: int
    first_order_status: str
    balance_order_id: int | None
    balance_order_status: str | None


# --- proposals --------------------------------------------------------------------------


@router.get("/presale/proposals", auth=None, response={200: ProposalPage, 422: ErrorOut})
def proposal_list(request, cursor: str | None = None, limit: int | None = None):
    """Published proposals, newest first; ``voted`` for a signed-in caller."""
    viewer = _viewer(request)
    page = paginate(selectors.proposals_public(), cursor=cursor, limit=limit, serialize=lambda p: p)
    voted = selectors.voted_ids(
        user_id=viewer.pk if viewer else None, proposal_ids=[p.pk for p in page["items"]]
    )
    page["items"] = [
        selectors.proposal_out(p, voted=(p.pk in voted) if viewer else None) for p in page["items"]
    ]
    return page


@router.post("/presale/proposals", response={201: ProposalOut, **ERRORS})
def proposal_create(request, payload: ProposalIn):
    """Propose a product or a variant; the text is checked (`422 content_refused`), and a
    held text waits for the operator (`status` `held`)."""
    proposal = proposals.proposal_create(user=request.auth, **payload.dict())
    return Status(201, selectors.proposal_out(proposal, voted=False))


@router.get(
    "/presale/proposals/{proposal_id}", auth=None, response={200: ProposalOut, 404: ErrorOut}
)
def proposal_detail(request, proposal_id: int):
    viewer = _viewer(request)
    proposal = selectors.proposal_get(
        proposal_id=proposal_id, viewer_id=viewer.pk if viewer else None
    )
    voted = selectors.voted_ids(user_id=viewer.pk, proposal_ids=[proposal.pk]) if viewer else None
    return selectors.proposal_out(proposal, voted=bool(voted) if viewer else None)


@router.post("/presale/proposals/{proposal_id}/vote", response={200: VotesOut, **ERRORS})
def vote_cast(request, proposal_id: int):
    """One vote per person: voting again changes nothing. `409 voting_closed`."""
    votes = proposals.vote_cast(user=request.auth, proposal_id=proposal_id)
    return {"proposal_id": proposal_id, "votes": votes, "voted": True}


@router.delete("/presale/proposals/{proposal_id}/vote", response={200: VotesOut, **ERRORS})
def vote_withdraw(request, proposal_id: int):
    votes = proposals.vote_withdraw(user=request.auth, proposal_id=proposal_id)
    return {"proposal_id": proposal_id, "votes": votes, "voted": False}


# --- pre-sales --------------------------------------------------------------------------


def _page(qs, cursor, limit, *, admin=False):
    if not admin:
        return paginate(qs, cursor=cursor, limit=limit, serialize=selectors.presale_out)
    page = paginate(qs, cursor=cursor, limit=limit, serialize=lambda s: s)
    page["items"] = selectors.presales_admin_out(page["items"])
    return page


@router.get("/presale/sales", auth=None, response={200: PresalePage, 422: ErrorOut})
def presale_list(request, cursor: str | None = None, limit: int | None = None):
    return _page(selectors.presales_visible(), cursor, limit)


@router.get("/presale/sales/{presale_id}", auth=None, response={200: PresaleOut, 404: ErrorOut})
def presale_detail(request, presale_id: int):
    return selectors.presale_out(selectors.presale_get(presale_id=presale_id, public=True))


@router.get("/presale/sales/{presale_id}/bookings", response={200: list[BookingOut], **ERRORS})
def my_bookings(request, presale_id: int):
    """The caller's own bookings of this pre-sale (deposits and their balance orders)."""
    return [
        selectors.booking_out(b)
        for b in selectors.bookings_of(presale_id=presale_id, user_id=request.auth.pk).order_by(
            "id"
        )
    ]


@router.post("/presale/sales/{presale_id}/orders", response={201: PresaleOrderOut, **ERRORS})
def presale_order(request, presale_id: int, payload: PresaleOrderIn):
    """Order through the `presale` channel: the deposit, the balance of a paid deposit
    (`booking_id`, in the balance window), or the full price (threshold mode). Pay it like
    any order (or with `pay`). `409 presale_not_started` (with `at`), `presale_ended`,
    `balance_not_open`, `deposit_not_paid`, `limit_exceeded`, `out_of_stock`."""
    body = payload.dict()
    if body.get("pay") is None:
        body.pop("pay", None)

    def work():
        order, payment = sales.presale_order(
            user=request.auth,
            presale_id=presale_id,
            phase=payload.phase,
            qty=payload.qty,
            booking_id=payload.booking_id,
            address_id=payload.address_id,
            coupon_id=payload.coupon_id,
            gateway=payload.pay.gateway if payload.pay is not None else None,
            note=payload.note or "",
        )
        booking = getattr(order, "presale_first", None) if payload.phase != "balance" else None
        return Status(
            201,
            {
                "order_id": order.pk,
                "booking_id": booking.pk if booking else payload.booking_id,
                "status": order.status,
                "payable": order.payable,
                "pay_before": order.expires_at,
                "payment": payment_out(payment) if payment is not None else None,
            },
        )

    return run_idempotent(
        request, route=f"POST /presale/sales/{presale_id}/orders", body=body, work=work
    )


# --- operator ---------------------------------------------------------------------------


@router.get("/admin/presale/proposals", response={200: ProposalPage, **ERRORS})
def admin_proposal_list(
    request, status: str | None = None, cursor: str | None = None, limit: int | None = None
):
    require_operator(request)
    return paginate(
        selectors.proposals_all(status),
        cursor=cursor,
        limit=limit,
        serialize=lambda p: selectors.proposal_out(p),
    )


@router.post("/admin/presale/proposals/{proposal_id}/decide", response={200: ProposalOut, **ERRORS})
def admin_proposal_decide(request, proposal_id: int, payload: DecideIn):
    """Accept, reject, or publish a held proposal."""
    require_operator(request)
    proposal = proposals.proposal_decide(proposal_id=proposal_id, decision=payload.decision)
    return selectors.proposal_out(proposal)


@router.post("/admin/presale/sales", response={201: PresaleAdminOut, **ERRORS})
def admin_presale_create(request, payload: PresaleIn):
    """Create a pre-sale, from a winning proposal (its voters get early access and/or a
    coupon) or directly for a SKU."""
    require_operator(request)
    presale = sales.presale_create(**payload.dict())
    return Status(201, selectors.presale_out(presale, admin=True))


@router.get("/admin/presale/sales", response={200: PresaleAdminPage, **ERRORS})
def admin_presale_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return _page(selectors.presales_all(), cursor, limit, admin=True)


@router.get("/admin/presale/sales/{presale_id}", response={200: PresaleAdminOut, **ERRORS})
def admin_presale_detail(request, presale_id: int):
    """Paid units against the threshold, units by booking status."""
    require_operator(request)
    return selectors.presale_out(selectors.presale_get(presale_id=presale_id), admin=True)


@router.post("/admin/presale/sales/{presale_id}/cancel", response={200: PresaleAdminOut, **ERRORS})
def admin_presale_cancel(request, presale_id: int):
    """Call the pre-sale off: deposits and unshipped orders are refunded along their
    payments' path, unpaid orders cancelled."""
    require_operator(request)
    return selectors.presale_out(sales.presale_cancel(presale_id=presale_id), admin=True)
