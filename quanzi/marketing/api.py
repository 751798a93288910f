from __future__ import annotations

import secrets
from typing import Literal

from ninja import Router, Status
from pydantic import AwareDatetime, Field

from quanzi.accounts.models import User
from quanzi.core.auth import require_operator
from quanzi.core.errors import Invalid, NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.ratelimit import rate_limit_request
from quanzi.core.schemas import Date, Datetime, ErrorOut, Schema
from quanzi.marketing import points, selectors, services
from quanzi.marketing.models import CouponTemplate

router = Router(tags=["coupons and points"])


class CouponTemplateIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["amount_off", "percent_off"]
    amount: int | None = Field(default=None, ge=1, le=100_000_000)
    percent_bp: int | None = Field(default=None, ge=1, le=9_999)
    cap: int | None = Field(default=None, ge=1, le=100_000_000)
    threshold: int = Field(default=0, ge=0, le=100_000_000)
    scope: Literal["all", "products", "categories"] = "all"
    scope_ids: list[int] | None = Field(default=None, max_length=500)
    valid_days: int | None = Field(default=None, ge=1, le=3650)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    total: int = Field(ge=1, le=10_000_000)
    per_user_limit: int = Field(default=1, ge=1, le=1000)
    claimable: bool = True
    new_user_gift: bool = False


class CouponTemplatePatch(Schema):
    is_active: bool | None = None
    claimable: bool | None = None
    new_user_gift: bool | None = None
    total: int | None = Field(default=None, ge=1, le=10_000_000)


class CouponTemplateOut(Schema):
    id: int
    name: str
    kind: str
    amount: int
    percent_bp: int
    cap: int | None
    threshold: int
    scope: str
    scope_ids: list[int]
    valid_days: int | None
    valid_from: Datetime | None
    valid_until: Datetime | None
    total: int
    issued: int
    left: int
    per_user_limit: int
    claimable: bool
    new_user_gift: bool
    is_active: bool
    created_at: Datetime


class CouponTemplatePage(Schema):
    items: list[CouponTemplateOut]
    next_cursor: str | None


class GrantIn(Schema):
    user_ids: list[int] = Field(min_length=1, max_length=1000)


class GrantOut(Schema):
    granted: list[dict[str, int]]
    failed: list[dict[str, int | str]]


class ClaimOut(Schema):
    coupon_id: int
    valid_until: Datetime


class CouponOut(Schema):
    id: int
    template_id: int
    name: str
    kind: str
    amount: int
    percent_bp: int
    cap: int | None
    threshold: int
    scope: str
    scope_ids: list[int]
    status: str
    source: str
    valid_from: Datetime
    valid_until: Datetime
    order_id: int | None
    used_at: Datetime | None
    created_at: Datetime


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


class PointsItemOut(Schema):
    amount: int
    reason: str
    kind: str
    order_id: int | None
    created_at: Datetime


class PointsOut(Schema):
    balance: int
    owed: int
    items: list[PointsItemOut]
    next_cursor: str | None


class SignInOut(Schema):
    day: Date
    points: int
    balance: int
    streak: int


class PointsAdjustIn(Schema):
    amount: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    reason: str = Field(min_length=1, max_length=60)


class PointsAdjustOut(Schema):
    user_id: int
    amount: int
    balance: int


def _template(template_id: int) -> CouponTemplate:
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound("coupon_template_not_found", "no such coupon template")
    return template


# --- operator ---------------------------------------------------------------------


@router.post(
    "/admin/coupon-templates",
    response={201: CouponTemplateOut, 403: ErrorOut, 422: ErrorOut},
)
def admin_coupon_template_create(request, payload: CouponTemplateIn):
    require_operator(request)
    template = services.coupon_template_create(data=payload.dict())
    return Status(201, selectors.coupon_template_out(template))


@router.get(
    "/admin/coupon-templates", response={200: CouponTemplatePage, 403: ErrorOut, 422: ErrorOut}
)
def admin_coupon_template_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return paginate(
        selectors.coupon_templates_all(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.coupon_template_out,
    )


@router.get(
    "/admin/coupon-templates/{template_id}",
    response={200: CouponTemplateOut, 403: ErrorOut, 404: ErrorOut},
)
def admin_coupon_template_detail(request, template_id: int):
    require_operator(request)
    return selectors.coupon_template_out(_template(template_id))


@router.patch(
    "/admin/coupon-templates/{template_id}",
    response={200: CouponTemplateOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_coupon_template_update(request, template_id: int, payload: CouponTemplatePatch):
    require_operator(request)
    template = services.coupon_template_update(
        template_id=template_id, data=payload.dict(exclude_none=True)
    )
    return selectors.coupon_template_out(template)


@router.post(
    "/admin/coupon-templates/{template_id}/grant",
    response={200: GrantOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_coupon_grant(request, template_id: int, payload: GrantIn):
    require_operator(request)
    return services.coupons_grant(template_id=template_id, user_ids=payload.user_ids)


@router.post(
    "/admin/users/{user_id}/points",
    response={201: PointsAdjustOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def admin_points_adjust(request, user_id: int, payload: PointsAdjustIn):
    """The operator gives (amount > 0) or takes (amount < 0) points, with a reason."""
    require_operator(request)
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound("user_not_found", "no such user")
    if payload.amount == 0:
        raise Invalid("invalid_points", "amount must not be zero", {"field": "amount"})

    def work():
        key = f"admin:{request.auth.pk}:{secrets.token_hex(8)}"
        reason = f"operator: {payload.reason}"
        if payload.amount > 0:
            points.points_credit(user_id=user_id, amount=payload.amount, reason=reason, key=key)
        else:
            points.points_debit(user_id=user_id, amount=-payload.amount, reason=reason, key=key)
        balance = points.points_balance(user_id=user_id)
        return Status(201, {"user_id": user_id, "amount": payload.amount, "balance": balance})

    return run_idempotent(
        request, route=f"POST /admin/users/{user_id}/points", body=payload.dict(), work=work
    )


# --- customers --------------------------------------------------------------------


@router.get("/coupon-templates", auth=None, response={200: CouponTemplatePage, 422: ErrorOut})
def coupon_template_list(request, cursor: str | None = None, limit: int | None = None):
    """The coupon centre (领券中心): templates anyone may claim now."""
    return paginate(
        selectors.coupon_templates_claimable(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.coupon_template_out,
    )


@router.post(
    "/coupon-templates/{template_id}/claim",
    # 403: a claim check refused it (e.g. a circle-only coupon claimed by a non-member).
    response={
        201: ClaimOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
)
def coupon_claim(request, template_id: int):
    rate_limit_request(request, "coupon_claim", user_id=request.auth.pk)
    coupon = services.coupon_claim(user=request.auth, template_id=template_id)
    return Status(201, {"coupon_id": coupon.pk, "valid_until": coupon.valid_until})


@router.get("/me/coupons", response={200: CouponPage, 401: ErrorOut, 422: ErrorOut})
def my_coupons(
    request,
    status: Literal["unused", "used", "expired"] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    return paginate(
        selectors.coupons_of(user_id=request.auth.pk, status=status),
        cursor=cursor,
        limit=limit,
        serialize=selectors.coupon_out,
    )


@router.get("/me/points", response={200: PointsOut, 401: ErrorOut, 422: ErrorOut})
def my_points(request, cursor: str | None = None, limit: int | None = None):
    page = paginate(
        selectors.points_history(user_id=request.auth.pk),
        cursor=cursor,
        limit=limit,
        serialize=selectors.points_txn_out,
    )
    return {**selectors.points_summary(user_id=request.auth.pk), **page}


@router.post("/me/sign-in", response={201: SignInOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut})
def my_sign_in(request):
    return Status(201, services.sign_in(user=request.auth))
