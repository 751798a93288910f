"""Reads: lotteries with their prizes, a user's draws, and a user's rewards."""

from __future__ import annotations

from typing import Any

from quanzi.accounts.models import User
from quanzi.rewards.lottery import free_draws_left
from quanzi.rewards.models import (
    GrantStatus,
    Lottery,
    LotteryDraw,
    LotteryPrize,
    ReferralStatus,
    RewardCampaign,
    RewardGrant,
    RewardReferral,
    RewardTrigger,
)

MAX_ITEMS = 200


def prize_out(prize: LotteryPrize) -> dict[str, Any]:
    return {
        "id": prize.pk,
        "name": prize.name,
        "kind": prize.kind,
        "weight": prize.weight,
        "stock": prize.stock,
        "given": prize.given,
        "points": prize.points,
        "coupon_template_id": prize.coupon_template_id,
        "sku_id": prize.sku_id,
    }


def lottery_out(lottery: Lottery, *, user: User | None = None) -> dict[str, Any]:
    prizes = list(lottery.prizes.all())
    return {
        "id": lottery.pk,
        "title": lottery.title,
        "cost_points": lottery.cost_points,
        "free_draws_per_day": lottery.free_draws_per_day,
        "free_draws_left": free_draws_left(lottery=lottery, user=user) if user else None,
        "is_active": lottery.is_active,
        "starts_at": lottery.starts_at,
        "ends_at": lottery.ends_at,
        "prizes": [prize_out(p) for p in prizes],
    }


def draw_out(draw: LotteryDraw) -> dict[str, Any]:
    prize = draw.prize
    won = prize is not None and prize.kind != "none"
    return {
        "draw_id": draw.pk,
        "lottery_id": draw.lottery_id,
        "status": draw.status,
        "prize": (
            {
                "id": prize.pk,
                "name": prize.name,
                "kind": prize.kind,
                "points": prize.points,
                "coupon_template_id": prize.coupon_template_id,
                "sku_id": prize.sku_id,
            }
            if won
            else None
        ),
        # The slot the wheel stops on, "nothing" slots included.
        "slot": {"id": prize.pk, "name": prize.name} if prize is not None else None,
        "free": draw.free,
        "cost_points": draw.cost_points,
        "coupon_id": draw.coupon_id,
        "order_id": draw.order_id,
        "seed": str(draw.seed),
        "roll": draw.roll,
        "created_at": draw.created_at,
    }


def draws_of(*, user_id: int):
    return LotteryDraw.objects.filter(user_id=user_id).select_related("prize")


def reward_campaign_out(campaign: RewardCampaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "kind": campaign.kind,
        "trigger": campaign.trigger,
        "needed": campaign.needed,
        "reward": {
            "points": campaign.reward_points,
            "coupon_template_id": campaign.reward_coupon_template_id,
        },
        "max_per_user": campaign.max_per_user,
        "is_active": campaign.is_active,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
    }


def _reward_of(campaign: RewardCampaign) -> dict[str, Any]:
    return {
        "points": campaign.reward_points,
        "coupon_template_id": campaign.reward_coupon_template_id,
    }


def rewards_of(*, user_id: int) -> dict[str, Any]:
    """Rewards granted and pending for the beneficiary, each with its reason.

    Items: every grant (granted / held / denied / failed), every person still waiting
    for its trigger or for review (pending / held) or refused (denied), and per
    campaign the people counted towards the next reward (pending, ``needs_more_people``).
    """
    items: list[dict[str, Any]] = []
    grants = RewardGrant.objects.filter(user_id=user_id).select_related("campaign").order_by("-pk")
    for grant in grants[:MAX_ITEMS]:
        items.append(
            {
                "source": "grant",
                "id": grant.pk,
                "campaign_id": grant.campaign_id,
                "kind": grant.campaign.kind,
                "trigger": grant.campaign.trigger,
                "status": grant.status,
                "reason": grant.reason
                or f"{len(grant.people)} people: {grant.campaign.kind} {grant.campaign.trigger}",
                "points": grant.points,
                "coupon_template_id": grant.coupon_template_id,
                "coupon_id": grant.coupon_id,
                "people": grant.people,
                "person": None,
                "created_at": grant.created_at,
            }
        )
    referrals = (
        RewardReferral.objects.filter(beneficiary_id=user_id)
        .exclude(status=ReferralStatus.QUALIFIED)
        .select_related("campaign", "person")
        .order_by("-pk")
    )
    for ref in referrals[:MAX_ITEMS]:
        reason = ref.reason
        if ref.status == ReferralStatus.PENDING and not reason:
            reason = (
                "waiting_first_order"
                if ref.campaign.trigger == RewardTrigger.FIRST_ORDER
                else "waiting_review"
            )
        items.append(
            {
                "source": "referral",
                "id": ref.pk,
                "campaign_id": ref.campaign_id,
                "kind": ref.campaign.kind,
                "trigger": ref.campaign.trigger,
                "status": ref.status,
                "reason": reason,
                **_reward_of(ref.campaign),
                "coupon_id": None,
                "people": [ref.person_id],
                "person": {"user_id": ref.person_id, "nickname": ref.person.nickname},
                "created_at": ref.created_at,
            }
        )
    progress = []
    counted = (
        RewardReferral.objects.filter(beneficiary_id=user_id, status=ReferralStatus.QUALIFIED)
        .select_related("campaign")
        .order_by("campaign_id", "decided_at", "pk")
    )
    by_campaign: dict[int, list[RewardReferral]] = {}
    for ref in counted:
        by_campaign.setdefault(ref.campaign_id, []).append(ref)
    for campaign_id, refs in by_campaign.items():
        campaign = refs[0].campaign
        rewards = len({r.grant_id for r in refs if r.grant_id is not None})
        capped = bool(campaign.max_per_user) and rewards >= campaign.max_per_user
        left_over = [] if capped else [r for r in refs if r.grant_id is None]
        progress.append(
            {
                "campaign_id": campaign_id,
                "kind": campaign.kind,
                "trigger": campaign.trigger,
                "needed": campaign.needed,
                "counted": len(refs),
                "rewards": rewards,
                "towards_next": len(left_over),
            }
        )
        if left_over:
            items.append(
                {
                    "source": "progress",
                    "id": campaign_id,
                    "campaign_id": campaign_id,
                    "kind": campaign.kind,
                    "trigger": campaign.trigger,
                    "status": "pending",
                    "reason": "needs_more_people",
                    **_reward_of(campaign),
                    "coupon_id": None,
                    "people": [r.person_id for r in left_over],
                    "person": None,
                    "created_at": left_over[-1].created_at,
                }
            )
    granted = [i for i in items if i["source"] == "grant" and i["status"] == GrantStatus.GRANTED]
    return {
        "granted_points": sum(i["points"] or 0 for i in granted),
        "granted_coupons": sum(1 for i in granted if i["coupon_template_id"]),
        "items": items,
        "progress": progress,
    }
