from __future__ import annotations

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema
from quanzi.membership import selectors, services
from quanzi.membership.models import MembershipPlan

router = Router(tags=["membership"])


class PlanIn(Schema):
    name: str = Field(min_length=1, max_length=40)
    price: int = Field(ge=1, le=100_000_000)
    duration_days: int = Field(ge=1, le=3660)
    points_multiplier_bp: int = Field(default=10_000, ge=0, le=100_000)
    free_shipping: bool = True
    monthly_coupon_template_id: Id | None = None


class PlanPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    price: int | None = Field(default=None, ge=1, le=100_000_000)
    duration_days: int | None = Field(default=None, ge=1, le=3660)
    points_multiplier_bp: int | None = Field(default=None, ge=0, le=100_000)
    free_shipping: bool | None = None
    is_active: bool | None = None
    monthly_coupon_template_id: Id | None = None


class PlanOut(Schema):
    id: int
    name: str
    price: int
    duration_days: int
    points_multiplier_bp: int
    free_shipping: bool
    monthly_coupon_template_id: int | None
    is_active: bool
    product_id: int
    sku_id: int
    created_at: Datetime


class BuyOut(Schema):
    order_id: int


class LevelIn(Schema):
    name: str = Field(min_length=1, max_length=40)
    min_growth: int = Field(ge=0, le=10**12)
    discount_bp: int = Field(default=0, ge=0, le=9_000)
    points_multiplier_bp: int = Field(default=10_000, ge=0, le=100_000)


class LevelPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    min_growth: int | None = Field(default=None, ge=0, le=10**12)
    discount_bp: int | None = Field(default=None, ge=0, le=9_000)
    points_multiplier_bp: int | None = Field(default=None, ge=0, le=100_000)


class LevelOut(Schema):
    id: int
    name: str
    min_growth: int
    discount_bp: int
    points_multiplier_bp: int


class NextLevelOut(LevelOut):
    growth_needed: int


class MembershipPlanState(Schema):
    id: int
    name: str
    started_at: Datetime
    expires_at: Datetime
    free_shipping: bool
    points_multiplier_bp: int


class MembershipOut(Schema):
    level: LevelOut | None
    growth: int
    next_level: NextLevelOut | None
    plan: MembershipPlanState | None


# --- operator ---------------------------------------------------------------------


@router.post("/admin/membership-plans", response={201: PlanOut, 403: ErrorOut, 422: ErrorOut})
def admin_plan_create(request, payload: PlanIn):
    require_operator(request)
    plan = services.plan_create(**payload.dict())
    return Status(201, selectors.plan_out(plan))


@router.get("/admin/membership-plans", response={200: list[PlanOut], 403: ErrorOut})
def admin_plan_list(request):
    require_operator(request)
    return [selectors.plan_out(plan) for plan in MembershipPlan.objects.order_by("id")]


@router.patch(
    "/admin/membership-plans/{plan_id}",
    response={200: PlanOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_plan_update(request, plan_id: int, payload: PlanPatch):
    require_operator(request)
    plan = services.plan_update(plan_id=plan_id, data=payload.dict(exclude_unset=True))
    return selectors.plan_out(plan)


@router.get("/admin/member-levels", response={200: list[LevelOut], 403: ErrorOut})
def admin_level_list(request):
    require_operator(request)
    return [selectors.level_out(level) for level in selectors.levels_all()]


@router.post("/admin/member-levels", response={201: LevelOut, 403: ErrorOut, 422: ErrorOut})
def admin_level_create(request, payload: LevelIn):
    require_operator(request)
    level = services.level_create(data=payload.dict())
    return Status(201, selectors.level_out(level))


@router.patch(
    "/admin/member-levels/{level_id}",
    response={200: LevelOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def admin_level_update(request, level_id: int, payload: LevelPatch):
    require_operator(request)
    level = services.level_update(level_id=level_id, data=payload.dict(exclude_none=True))
    return selectors.level_out(level)


@router.delete(
    "/admin/member-levels/{level_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def admin_level_delete(request, level_id: int):
    require_operator(request)
    services.level_delete(level_id=level_id)
    return Status(204, None)


# --- customers --------------------------------------------------------------------


@router.get("/membership-plans", auth=None, response=list[PlanOut])
def plan_list(request):
    return [selectors.plan_out(plan) for plan in selectors.plans_active()]


@router.get("/member-levels", auth=None, response=list[LevelOut])
def level_list(request):
    return [selectors.level_out(level) for level in selectors.levels_all()]


@router.post(
    "/membership-plans/{plan_id}/buy",
    response={201: BuyOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def plan_buy(request, plan_id: int):
    def work():
        order = services.plan_buy(user=request.auth, plan_id=plan_id)
        return Status(201, {"order_id": order.pk})

    if not MembershipPlan.objects.filter(pk=plan_id, is_active=True).exists():
        raise NotFound("plan_not_found", "no such membership plan")
    return run_idempotent(
        request, route=f"POST /membership-plans/{plan_id}/buy", body={}, work=work
    )


@router.get("/me/membership", response={200: MembershipOut, 401: ErrorOut})
def my_membership(request):
    return selectors.membership_state(user=request.auth)
