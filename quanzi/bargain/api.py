from __future__ import annotations

from typing import Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.bargain import selectors, services
from quanzi.bargain.models import Bargain
from quanzi.core.auth import require_operator
from quanzi.core.errors import Conflict, NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.ratelimit import rate_limit_request
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema

router = Router(tags=["bargaining"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class CampaignIn(Schema):
    sku_id: Id
    start_price: int = Field(ge=1, le=100_000_000)
    floor_price: int = Field(ge=0, le=100_000_000)
    helpers_min: int = Field(ge=1, le=1000)
    helpers_max: int = Field(ge=1, le=1000)
    ttl_seconds: int = Field(ge=60, le=30 * 86_400)
    per_user_limit: int = Field(default=1, ge=1, le=1000)
    stock: int = Field(ge=0, le=10_000_000)
    title: str = Field(default="", max_length=120)
    helps_per_day: int = Field(default=3, ge=1, le=1000)
    new_user_cut_bp: int = Field(default=20_000, ge=10_000, le=100_000)
    buy_mode: Literal["any_price", "floor_only"] = "any_price"
    accepts_coupon: bool = False
    accepts_points: bool = False
    starts_at: Datetime | None = None
    ends_at: Datetime | None = None


class CampaignOut(Schema):
    id: int
    title: str
    sku_id: int
    start_price: int
    floor_price: int
    helpers_min: int
    helpers_max: int
    ttl_seconds: int
    per_user_limit: int
    helps_per_day: int
    new_user_cut_bp: int
    stock: int
    buy_mode: str
    accepts_coupon: bool
    accepts_points: bool
    starts_at: Datetime | None
    ends_at: Datetime | None
    is_active: bool


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


class StartIn(Schema):
    campaign_id: Id


class StartOut(Schema):
    bargain_id: int
    current_price: int
    expires_at: Datetime
    share_url: str


class HelpOut(Schema):
    cut: int
    current_price: int
    status: str
    new_user: bool


class HelperOut(Schema):
    user_id: int
    nickname: str
    avatar: str
    cut: int
    new_user: bool
    created_at: Datetime


class BargainOut(Schema):
    id: int
    campaign_id: int
    user_id: int
    status: str
    start_price: int
    floor_price: int
    current_price: int
    helpers_count: int
    helpers: list[HelperOut]
    expires_at: Datetime
    order_id: int | None
    share_url: str


class BargainPage(Schema):
    items: list[BargainOut]
    next_cursor: str | None


class BuyIn(Schema):
    address_id: Id
    coupon_id: Id | None = None
    points: int = Field(default=0, ge=0, le=100_000_000)


class BuyOut(Schema):
    order_id: int
    payable: int


@router.post("/admin/bargain-campaigns", response={201: CampaignOut, **ERRORS})
def admin_campaign_create(request, payload: CampaignIn):
    require_operator(request)
    campaign = services.campaign_create(**payload.dict())
    return Status(201, selectors.campaign_out(campaign))


@router.get("/admin/bargain-campaigns", response={200: CampaignPage, 403: ErrorOut, 422: ErrorOut})
def admin_campaign_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    from quanzi.bargain.models import BargainCampaign

    return paginate(
        BargainCampaign.objects.all(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.campaign_out,
    )


@router.post("/admin/bargain-campaigns/{campaign_id}/close", response={200: CampaignOut, **ERRORS})
def admin_campaign_close(request, campaign_id: int):
    require_operator(request)
    return selectors.campaign_out(services.campaign_close(campaign_id=campaign_id))


@router.get("/bargain-campaigns", response={200: CampaignPage, 422: ErrorOut})
def campaign_list(request, cursor: str | None = None, limit: int | None = None):
    return paginate(
        selectors.campaigns_running(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.campaign_out,
    )


@router.post("/bargains", response={201: StartOut, **ERRORS})
def bargain_start(request, payload: StartIn):
    bargain = services.bargain_start(user=request.auth, campaign_id=payload.campaign_id)
    return Status(
        201,
        {
            "bargain_id": bargain.pk,
            "current_price": bargain.current_price,
            "expires_at": bargain.expires_at,
            "share_url": selectors.bargain_share_url(bargain),
        },
    )


def _bargain_answer(bargain: Bargain, viewer) -> dict:
    answer = selectors.bargain_out(bargain)
    if viewer.pk != bargain.user_id:
        answer["order_id"] = None  # the owner's order is the owner's business
    return answer


@router.get("/me/bargains", response={200: BargainPage, 422: ErrorOut})
def my_bargains(request, cursor: str | None = None, limit: int | None = None):
    return paginate(
        selectors.bargains_of(user_id=request.auth.pk),
        cursor=cursor,
        limit=limit,
        serialize=selectors.bargain_out,
    )


@router.get("/bargains/{bargain_id}", response={200: BargainOut, 404: ErrorOut})
def bargain_detail(request, bargain_id: int):
    bargain = Bargain.objects.filter(pk=bargain_id).first()
    if bargain is None:
        raise NotFound("bargain_not_found", "no such bargain")
    return _bargain_answer(bargain, request.auth)


@router.post("/bargains/{bargain_id}/help", response={201: HelpOut, **ERRORS})
def bargain_help(request, bargain_id: int):
    rate_limit_request(request, "bargain_help", user_id=request.auth.pk)
    help_ = services.bargain_help(bargain_id=bargain_id, helper=request.auth)
    return Status(
        201,
        {
            "cut": help_.cut,
            "current_price": help_.price_after,
            "status": help_.bargain.status,
            "new_user": help_.new_user,
        },
    )


@router.post(
    "/bargains/{bargain_id}/self-cut",
    response={201: HelpOut, **ERRORS},
    summary="The starter's own first cut (自砍一刀)",
)
def bargain_self_cut(request, bargain_id: int):
    """Taken once, by the owner, before any friend helps; asking again returns it. It is
    one cut more than the friends drawn, so as many friends are still needed."""
    help_ = services.bargain_self_cut(bargain_id=bargain_id, user=request.auth)
    if help_ is None:
        raise Conflict("self_cut_unavailable", "this bargain can no longer take your own cut")
    return Status(
        201,
        {
            "cut": help_.cut,
            "current_price": help_.price_after,
            "status": help_.bargain.status,
            "new_user": False,
        },
    )


@router.post("/bargains/{bargain_id}/buy", response={201: BuyOut, **ERRORS})
def bargain_buy(request, bargain_id: int, payload: BuyIn):
    def work():
        order = services.bargain_buy(
            bargain_id=bargain_id,
            user=request.auth,
            address_id=payload.address_id,
            coupon_id=payload.coupon_id,
            points=payload.points,
        )
        return Status(201, {"order_id": order.pk, "payable": order.payable})

    return run_idempotent(
        request, route=f"POST /bargains/{bargain_id}/buy", body=payload.dict(), work=work
    )
