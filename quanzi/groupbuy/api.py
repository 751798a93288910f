from __future__ import annotations

from typing import Any

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import QuanziError
from quanzi.core.idempotency import refusal_answer, run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Schema
from quanzi.groupbuy import selectors, services
from quanzi.groupbuy.notices import share_url

router = Router(tags=["group buying"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
BIG = 2_000_000_000  # inputs are range-checked by the services (clear codes); this keeps
ID = Field(ge=1, le=2**62)  # them inside what the database holds


class OfferIn(Schema):
    sku_id: int = ID
    group_price: int = Field(ge=-BIG, le=BIG)
    leader_price: int | None = Field(default=None, ge=-BIG, le=BIG)


class CampaignIn(Schema):
    title: str = Field(max_length=120)
    skus: list[OfferIn] = Field(max_length=50)
    group_size: int = Field(ge=-BIG, le=BIG)
    group_ttl_seconds: int = Field(ge=-BIG, le=BIG)
    starts_at: Datetime | None = None
    ends_at: Datetime | None = None
    per_user_limit: int = Field(ge=-BIG, le=BIG)
    stock: int = Field(ge=-BIG, le=BIG)
    simulated_fill_max_missing: int | None = Field(default=None, ge=-BIG, le=BIG)
    commission_enabled: bool = False
    accepts_coupons: bool = False
    accepts_points: bool = False


class OfferOut(Schema):
    sku_id: int
    name: str
    price: int
    group_price: int
    leader_price: int | None


class ProductRef(Schema):
    id: int
    title: str
    cover: str


class CampaignOut(Schema):
    id: int
    title: str
    product: ProductRef
    skus: list[OfferOut]
    group_price: int
    price: int
    group_size: int
    group_ttl_seconds: int
    per_user_limit: int
    starts_at: Datetime
    ends_at: Datetime | None
    sold_out: bool
    accepts_coupons: bool
    accepts_points: bool


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


class CampaignAdminOut(CampaignOut):
    stock: int
    stock_allotted: int
    simulated_fill_max_missing: int
    commission_enabled: bool
    is_active: bool
    created_at: Datetime
    groups: dict[str, int]


class CampaignAdminPage(Schema):
    items: list[CampaignAdminOut]
    next_cursor: str | None


class Person(Schema):
    user_id: int
    nickname: str
    avatar: str


class OpenGroupOut(Schema):
    group_id: int
    campaign_id: int
    leader: Person
    size: int
    paid_members: int
    missing: int
    free_places: int
    expires_at: Datetime
    seconds_left: int
    group_price: int
    share_url: str


class CampaignDetailOut(CampaignOut):
    open_groups: list[OpenGroupOut]


class OpenIn(Schema):
    campaign_id: int = ID
    sku_id: int = ID
    qty: int = Field(default=1, ge=1, le=999)
    address_id: int | None = Field(default=None, ge=1, le=2**62)
    coupon_id: int | None = Field(default=None, ge=1, le=2**62)
    points: int = Field(default=0, ge=0, le=100_000_000)
    share_token: str | None = Field(default=None, max_length=40)


class JoinIn(Schema):
    sku_id: int = ID
    qty: int = Field(default=1, ge=1, le=999)
    address_id: int | None = Field(default=None, ge=1, le=2**62)
    coupon_id: int | None = Field(default=None, ge=1, le=2**62)
    points: int = Field(default=0, ge=0, le=100_000_000)
    share_token: str | None = Field(default=None, max_length=40)


class PlacedOut(Schema):
    group_id: int
    order_id: int
    order_status: str
    payable: int
    pay_before: Datetime
    share_url: str


class MemberOut(Schema):
    user_id: int
    nickname: str
    avatar: str
    is_leader: bool
    paid: bool


class ViewerOut(Schema):
    joined: bool
    can_join: bool
    reason: str | None


class GroupOut(Schema):
    id: int
    campaign_id: int
    status: str
    size: int
    paid_members: int
    missing: int
    free_places: int
    simulated: bool
    expires_at: Datetime | None
    seconds_left: int
    leader: Person
    members: list[MemberOut]
    avatars: list[str]
    share_url: str
    title: str
    product: ProductRef
    skus: list[OfferOut]
    group_price: int
    price: int
    viewer: ViewerOut


class MyGroupOut(Schema):
    id: int
    campaign_id: int
    title: str
    status: str
    size: int
    paid_members: int
    missing: int
    expires_at: Datetime | None
    share_url: str


class MyGroupPage(Schema):
    items: list[MyGroupOut]
    next_cursor: str | None


def _viewer(request):
    """The person looking, when known (public pages work without logging in)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        from quanzi.accounts.services import token_authenticate

        return token_authenticate(raw=header[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _placed(order) -> dict[str, Any]:
    group_id = int(order.channel_ref)
    return {
        "group_id": group_id,
        "order_id": order.pk,
        "order_status": order.status,
        "payable": order.payable,
        "pay_before": order.expires_at,
        "share_url": share_url(group_id),
    }


# --- operator --------------------------------------------------------------------------


@router.post("/admin/group-campaigns", response={201: CampaignAdminOut, **ERRORS})
def campaign_create(request, payload: CampaignIn):
    require_operator(request)
    data = payload.dict()
    data["skus"] = [offer.dict() for offer in payload.skus]
    campaign = services.campaign_create(**data)
    return Status(
        201, selectors.campaign_admin_out(selectors.campaign_get(campaign_id=campaign.pk))
    )


@router.get("/admin/group-campaigns", response={200: CampaignAdminPage, **ERRORS})
def campaign_admin_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return paginate(
        selectors.campaigns_admin(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.campaign_admin_out,
    )


@router.get("/admin/group-campaigns/{campaign_id}", response={200: CampaignAdminOut, **ERRORS})
def campaign_admin_detail(request, campaign_id: int):
    require_operator(request)
    return selectors.campaign_admin_out(selectors.campaign_get(campaign_id=campaign_id))


@router.post("/admin/group-campaigns/{campaign_id}/end", response={200: CampaignAdminOut, **ERRORS})
def campaign_end(request, campaign_id: int):
    require_operator(request)
    services.campaign_end(campaign_id=campaign_id)
    return selectors.campaign_admin_out(selectors.campaign_get(campaign_id=campaign_id))


# --- everyone --------------------------------------------------------------------------


@router.get("/group-campaigns", auth=None, response={200: CampaignPage, 422: ErrorOut})
def campaign_list(request, cursor: str | None = None, limit: int | None = None):
    return paginate(
        selectors.campaigns_active(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.campaign_public_out,
    )


@router.get(
    "/group-campaigns/{campaign_id}", auth=None, response={200: CampaignDetailOut, 404: ErrorOut}
)
def campaign_detail(request, campaign_id: int):
    campaign = selectors.campaign_get(campaign_id=campaign_id, public=True)
    viewer = _viewer(request)
    return {
        **selectors.campaign_public_out(campaign),
        "open_groups": [
            group
            for group in selectors.open_groups_for_product(
                product_id=campaign.product_id,
                limit=10,
                exclude_user_id=viewer.pk if viewer else None,
            )
            if group["campaign_id"] == campaign.pk
        ],
    }


@router.post("/groups", response={201: PlacedOut, **ERRORS})
def group_open(request, payload: OpenIn):
    def work():
        order = services.group_open(
            user=request.auth,
            campaign_id=payload.campaign_id,
            sku_id=payload.sku_id,
            qty=payload.qty,
            address_id=payload.address_id,
            coupon_id=payload.coupon_id,
            points=payload.points,
            share_token=payload.share_token or "",
        )
        return Status(201, _placed(order))

    return run_idempotent(request, route="POST /groups", body=payload.dict(), work=work)


@router.post("/groups/{group_id}/join", response={201: PlacedOut, **ERRORS})
def group_join(request, group_id: int, payload: JoinIn):
    # The place is taken before the idempotent transaction, in a short one of its own,
    # so the group's lock is never held while the order is written; the order then
    # attaches to it. A refusal is recorded under the key without opening the work's
    # transaction. A retry of an answered key still gets its first answer: its refusal
    # (already_joined) or its second order cannot record the key, so the work is
    # undone, the first answer replayed and the second place freed below.
    route = f"POST /groups/{group_id}/join"
    try:
        slot_id = services.group_slot_take(
            user=request.auth, group_id=group_id, sku_id=payload.sku_id
        ).pk
    except QuanziError as exc:
        return refusal_answer(request, route=route, body=payload.dict(), error=exc)

    def work():
        order = services.group_join(
            user=request.auth,
            group_id=group_id,
            sku_id=payload.sku_id,
            qty=payload.qty,
            address_id=payload.address_id,
            coupon_id=payload.coupon_id,
            points=payload.points,
            share_token=payload.share_token or "",
            slot_id=slot_id,
        )
        placed["order_id"] = order.pk
        return Status(201, _placed(order))

    placed: dict[str, int] = {}
    kept = False
    try:
        answer = run_idempotent(
            request,
            route=route,
            body=payload.dict(),
            work=work,
        )
        # Our own order committed (not another request's answer replayed): it holds
        # the place.
        kept = "order_id" in placed and answer.value.get("order_id") == placed["order_id"]
        return answer
    finally:
        if not kept:
            services.group_slot_release(slot_id=slot_id)


@router.get("/groups/{group_id}", auth=None, response={200: GroupOut, 404: ErrorOut})
def group_detail(request, group_id: int):
    return selectors.group_share_data(group_id=group_id, viewer=_viewer(request))


@router.get("/me/groups", response={200: MyGroupPage, 401: ErrorOut, 422: ErrorOut})
def my_groups(request, cursor: str | None = None, limit: int | None = None):
    def row(group) -> dict[str, Any]:
        return {
            "id": group.pk,
            "campaign_id": group.campaign_id,
            "title": group.campaign.title,
            "status": group.status,
            "size": group.size,
            "paid_members": group.paid_count,
            "missing": group.missing,
            "expires_at": group.expires_at,
            "share_url": share_url(group.pk),
        }

    return paginate(
        selectors.groups_of_user(user_id=request.auth.pk), cursor=cursor, limit=limit, serialize=row
    )
