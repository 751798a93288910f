from __future__ import annotations

from typing import Any, Literal

from ninja import Router, Status
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.errors import NotFound
from quanzi.core.idempotency import run_idempotent
from quanzi.core.pagination import paginate
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema
from quanzi.rewards import invites, lottery, selectors
from quanzi.rewards.models import Lottery, LotteryDraw, RewardCampaign

router = Router(tags=["lottery and rewards"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- lottery --------------------------------------------------------------------------


class PrizeIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["points", "coupon", "product", "none"]
    weight: int = Field(ge=0, le=1_000_000_000)
    stock: int | None = Field(default=None, ge=0, le=10_000_000)
    points: int | None = Field(default=None, ge=1, le=100_000_000)
    coupon_template_id: Id | None = None
    sku_id: Id | None = None


class LotteryIn(Schema):
    title: str = Field(min_length=1, max_length=120)
    cost_points: int = Field(default=0, ge=0, le=100_000_000)
    free_draws_per_day: int = Field(default=0, ge=0, le=1000)
    prizes: list[PrizeIn] = Field(min_length=1, max_length=50)
    starts_at: Datetime | None = None
    ends_at: Datetime | None = None


class PrizeOut(Schema):
    id: int
    name: str
    kind: str
    weight: int
    stock: int | None
    given: int
    points: int | None
    coupon_template_id: int | None
    sku_id: int | None


class LotteryOut(Schema):
    id: int
    title: str
    cost_points: int
    free_draws_per_day: int
    free_draws_left: int | None
    is_active: bool
    starts_at: Datetime | None
    ends_at: Datetime | None
    prizes: list[PrizeOut]


class WonPrizeOut(Schema):
    id: int
    name: str
    kind: str
    points: int | None
    coupon_template_id: int | None
    sku_id: int | None


class SlotOut(Schema):
    id: int
    name: str


class DrawOut(Schema):
    draw_id: int
    lottery_id: int
    status: str
    prize: WonPrizeOut | None
    slot: SlotOut | None
    free: bool
    cost_points: int
    coupon_id: int | None
    order_id: int | None
    seed: str
    roll: int
    created_at: Datetime


class DrawPage(Schema):
    items: list[DrawOut]
    next_cursor: str | None


class ClaimIn(Schema):
    address_id: Id


class ClaimOut(Schema):
    order_id: int


def _lottery(lottery_id: int) -> Lottery:
    found = Lottery.objects.filter(pk=lottery_id).prefetch_related("prizes").first()
    if found is None:
        raise NotFound("lottery_not_found", "no such lottery")
    return found


@router.post("/admin/lotteries", response={201: LotteryOut, **ERRORS})
def admin_lottery_create(request, payload: LotteryIn):
    require_operator(request)
    data = payload.dict()
    created = lottery.lottery_create(**data)
    return Status(201, selectors.lottery_out(_lottery(created.pk)))


@router.post("/admin/lotteries/{lottery_id}/close", response={200: LotteryOut, **ERRORS})
def admin_lottery_close(request, lottery_id: int):
    require_operator(request)
    lottery.lottery_close(lottery_id=lottery_id)
    return selectors.lottery_out(_lottery(lottery_id))


@router.get("/lotteries/{lottery_id}", response={200: LotteryOut, 404: ErrorOut})
def lottery_detail(request, lottery_id: int):
    return selectors.lottery_out(_lottery(lottery_id), user=request.auth)


@router.post("/lotteries/{lottery_id}/draw", response={201: DrawOut, **ERRORS})
def lottery_draw(request, lottery_id: int):
    def work():
        draw = lottery.lottery_draw(user=request.auth, lottery_id=lottery_id)
        return Status(201, selectors.draw_out(draw))

    return run_idempotent(request, route=f"POST /lotteries/{lottery_id}/draw", body={}, work=work)


@router.get("/me/lottery-draws", response={200: DrawPage, 422: ErrorOut})
def my_draws(request, cursor: str | None = None, limit: int | None = None):
    return paginate(
        selectors.draws_of(user_id=request.auth.pk),
        cursor=cursor,
        limit=limit,
        serialize=selectors.draw_out,
    )


@router.post("/lottery-draws/{draw_id}/claim", response={201: ClaimOut, **ERRORS})
def lottery_claim(request, draw_id: int, payload: ClaimIn):
    def work():
        order = lottery.lottery_claim(
            draw_id=draw_id, user=request.auth, address_id=payload.address_id
        )
        return Status(201, {"order_id": order.pk})

    return run_idempotent(
        request, route=f"POST /lottery-draws/{draw_id}/claim", body=payload.dict(), work=work
    )


@router.get("/admin/lottery-draws/{draw_id}", response={200: DrawOut, **ERRORS})
def admin_draw_detail(request, draw_id: int):
    require_operator(request)
    draw = LotteryDraw.objects.select_related("prize").filter(pk=draw_id).first()
    if draw is None:
        raise NotFound("draw_not_found", "no such draw")
    return {**selectors.draw_out(draw)}


# --- share and invite rewards -----------------------------------------------------------


class RewardIn(Schema):
    points: int | None = Field(default=None, ge=1, le=100_000_000)
    coupon_template_id: Id | None = None


class RewardCampaignIn(Schema):
    kind: Literal["share", "invite"]
    trigger: Literal["register", "first_order"] = Field(
        description="first_order: the friend's first paid order settles; register is "
        "refused (recruitment_reward_forbidden): a sign-up alone earns nothing"
    )
    needed: int = Field(default=1, ge=1, le=1000)
    reward: RewardIn
    title: str = Field(default="", max_length=120)
    max_per_user: int = Field(default=0, ge=0, le=100_000)
    starts_at: Datetime | None = None
    ends_at: Datetime | None = None


class RewardCampaignOut(Schema):
    id: int
    title: str
    kind: str
    trigger: str
    needed: int
    reward: dict[str, int | None]
    max_per_user: int
    is_active: bool
    starts_at: Datetime
    ends_at: Datetime | None


class RewardCampaignPage(Schema):
    items: list[RewardCampaignOut]
    next_cursor: str | None


class PersonOut(Schema):
    user_id: int
    nickname: str


class RewardItemOut(Schema):
    source: Literal["grant", "referral", "progress"]
    id: int
    campaign_id: int
    kind: str
    trigger: str
    status: str
    reason: str
    points: int | None
    coupon_template_id: int | None
    coupon_id: int | None
    people: list[int]
    person: PersonOut | None
    created_at: Datetime


class ProgressOut(Schema):
    campaign_id: int
    kind: str
    trigger: str
    needed: int
    counted: int
    rewards: int
    towards_next: int


class MyRewardsOut(Schema):
    granted_points: int
    granted_coupons: int
    items: list[RewardItemOut]
    progress: list[ProgressOut]


class ReviewIn(Schema):
    approve: bool


class ReviewOut(Schema):
    id: int
    status: str
    reason: str


@router.post("/admin/reward-campaigns", response={201: RewardCampaignOut, **ERRORS})
def admin_reward_campaign_create(request, payload: RewardCampaignIn):
    require_operator(request)
    data: dict[str, Any] = payload.dict()
    campaign = invites.reward_campaign_create(**data)
    return Status(201, selectors.reward_campaign_out(campaign))


@router.get(
    "/admin/reward-campaigns", response={200: RewardCampaignPage, 403: ErrorOut, 422: ErrorOut}
)
def admin_reward_campaign_list(request, cursor: str | None = None, limit: int | None = None):
    require_operator(request)
    return paginate(
        RewardCampaign.objects.all(),
        cursor=cursor,
        limit=limit,
        serialize=selectors.reward_campaign_out,
    )


@router.post(
    "/admin/reward-campaigns/{campaign_id}/close", response={200: RewardCampaignOut, **ERRORS}
)
def admin_reward_campaign_close(request, campaign_id: int):
    require_operator(request)
    return selectors.reward_campaign_out(invites.reward_campaign_close(campaign_id=campaign_id))


@router.get("/reward-campaigns", response={200: list[RewardCampaignOut]})
def reward_campaign_list(request):
    from django.utils import timezone

    now = timezone.now()
    running = RewardCampaign.objects.filter(is_active=True, starts_at__lte=now).order_by("-pk")
    return [
        selectors.reward_campaign_out(c)
        for c in running[:50]
        if c.ends_at is None or c.ends_at > now
    ]


@router.get("/me/rewards", response=MyRewardsOut)
def my_rewards(request):
    return selectors.rewards_of(user_id=request.auth.pk)


@router.post("/admin/reward-referrals/{referral_id}/review", response={200: ReviewOut, **ERRORS})
def admin_referral_review(request, referral_id: int, payload: ReviewIn):
    require_operator(request)
    referral = invites.referral_review(referral_id=referral_id, approve=payload.approve)
    return {"id": referral.pk, "status": referral.status, "reason": referral.reason}


@router.post("/admin/reward-grants/{grant_id}/review", response={200: ReviewOut, **ERRORS})
def admin_grant_review(request, grant_id: int, payload: ReviewIn):
    require_operator(request)
    grant = invites.grant_review(grant_id=grant_id, approve=payload.approve)
    return {"id": grant.pk, "status": grant.status, "reason": grant.reason}
