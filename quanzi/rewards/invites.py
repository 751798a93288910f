"""Share rewards (分享有礼) and invite rewards (好友裂变).

A campaign rewards a **beneficiary** for the new people it brings: with its share links
(``share``) or its invite code (``invite``), counted when their first paid order
**settles** (``first_order``: the after-sales window is over and the order kept money).
Every ``needed`` people earn one reward, in points and/or a coupon.

* A sign-up alone earns nothing: points and coupons are money at checkout, and paying
  for recruitment alone is what the law forbids. A ``register`` trigger is refused
  (``recruitment_reward_forbidden``); campaigns made with one before this rule were
  closed by a migration (rewards 0002). See docs/distribution.md, "Lawful by
  construction".
* A first order counts when it settles, not when it completes: an order refunded inside
  its after-sales window (in full: it never settles) earns nothing, and the person's
  next order that is kept counts instead. Nothing is granted that a refund in the
  window could take back; a refund after settlement (an operator's exception) leaves
  the reward alone.
* Only new people count: signed up after the campaign started, through the
  beneficiary's own link or code (recorded facts, never timing guesses).
* A person counts once per campaign (a unique constraint), and not at all when it is
  the beneficiary's own other account (same device, phone or address — asked of risk
  control) or a device already counted in the campaign (register / delete / re-register).
* Counting and granting lock one tally row per (campaign, beneficiary), so two people
  qualifying at once never grant the same reward twice; each grant asks risk control
  first and may be held for an operator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid, NotFound, QuanziError
from quanzi.core.logging import get_logger
from quanzi.rewards import payouts, sources
from quanzi.rewards.models import (
    GrantStatus,
    ReferralStatus,
    RewardCampaign,
    RewardGrant,
    RewardKind,
    RewardReferral,
    RewardTally,
    RewardTrigger,
)
from quanzi.risk.services import DENY, RiskInput, risk_check

log = get_logger("quanzi.rewards")

# Sign-ups younger than this are left to the next scan, so that the share link they
# came through has surely been recorded (a processing delay, not a "new user" rule).
SCAN_LAG = timedelta(seconds=5)


def reward_campaign_create(
    *,
    kind: str,
    trigger: str,
    needed: int,
    reward: dict[str, Any],
    title: str = "",
    max_per_user: int = 0,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> RewardCampaign:
    if kind not in RewardKind.values:
        raise Invalid("invalid_campaign", "kind is share or invite")
    if trigger == RewardTrigger.REGISTER:
        raise Invalid(
            "recruitment_reward_forbidden",
            "a sign-up alone may earn nothing of cash value (points and coupons are money "
            "at checkout): reward the friend's first paid order instead (trigger first_order)",
            {"field": "trigger"},
        )
    if trigger not in RewardTrigger.values:
        raise Invalid("invalid_campaign", "trigger is first_order")
    if not isinstance(needed, int) or not 1 <= needed <= 1000:
        raise Invalid("invalid_campaign", "needed is between 1 and 1000 people")
    points, template_id = reward.get("points"), reward.get("coupon_template_id")
    if points is None and template_id is None:
        raise Invalid("invalid_reward", "a reward gives points, a coupon, or both")
    if points is not None and (not isinstance(points, int) or not 1 <= points <= 100_000_000):
        raise Invalid("invalid_reward", "points is a whole number ≥ 1")
    if template_id is not None and not isinstance(template_id, int):
        raise Invalid("invalid_reward", "coupon_template_id names a coupon template")
    if template_id is not None and not payouts.coupon_template_exists(template_id):
        raise Invalid(
            "invalid_coupon_template", "no such coupon template", {"field": "coupon_template_id"}
        )
    if not isinstance(max_per_user, int) or not 0 <= max_per_user <= 100_000:
        raise Invalid("invalid_campaign", "max_per_user is a whole number ≥ 0 (0 = no cap)")
    starts_at = starts_at or timezone.now()
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid("invalid_campaign", "ends_at must be after starts_at")
    campaign = RewardCampaign.objects.create(
        title=(title or "").strip()[:120],
        kind=kind,
        trigger=trigger,
        needed=needed,
        reward_points=points,
        reward_coupon_template_id=template_id,
        max_per_user=max_per_user,
        starts_at=starts_at,
        ends_at=ends_at,
        # Accounts made before the campaign can never be new to it: skip them.
        scanned_user_id=User.objects.filter(date_joined__lt=starts_at)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0,
    )
    log.info("reward campaign created", extra={"campaign_id": campaign.pk, "kind": kind})
    return campaign


def reward_campaign_close(*, campaign_id: int) -> RewardCampaign:
    if not RewardCampaign.objects.filter(pk=campaign_id).update(is_active=False):
        raise NotFound("campaign_not_found", "no such reward campaign")
    return RewardCampaign.objects.get(pk=campaign_id)


# --- who counts ------------------------------------------------------------------


def _beneficiary_of(campaign: RewardCampaign, person: User) -> int | None:
    if campaign.kind == RewardKind.INVITE:
        return sources.inviter_of(person)
    return sources.sharer_of(person)


def _brought_in_during(campaign: RewardCampaign, person: User) -> bool:
    return person.date_joined >= campaign.starts_at and (
        campaign.ends_at is None or person.date_joined < campaign.ends_at
    )


def _referral_for(campaign: RewardCampaign, person: User) -> RewardReferral | None:
    """The person's referral in the campaign, made ``pending`` on first sight; ``None``
    when nobody brought it in during the campaign."""
    existing = RewardReferral.objects.filter(campaign=campaign, person=person).first()
    if existing is not None:
        return existing
    beneficiary_id = _beneficiary_of(campaign, person)
    if beneficiary_id is None or not _brought_in_during(campaign, person):
        return None
    try:
        with transaction.atomic():
            return RewardReferral.objects.create(
                campaign=campaign,
                beneficiary_id=beneficiary_id,
                person=person,
                reason="waiting_first_order"
                if campaign.trigger == RewardTrigger.FIRST_ORDER
                else "",
            )
    except IntegrityError:
        return RewardReferral.objects.get(campaign=campaign, person=person)


def _decide(referral: RewardReferral, *, order=None) -> None:
    """Ask whether this person counts: distinct device, then risk control."""
    campaign, person = referral.campaign, referral.person
    referral.order_id = order.pk if order is not None else None
    referral.decided_at = timezone.now()
    if (
        person.device_id
        and RewardReferral.objects.filter(
            campaign=campaign,
            status__in=[ReferralStatus.QUALIFIED, ReferralStatus.HELD],
            person__device_id=person.device_id,
        )
        .exclude(pk=referral.pk)
        .exists()
    ):
        referral.status, referral.reason = ReferralStatus.DENIED, "device_already_counted"
        referral.save()
        return
    decision = risk_check(
        RiskInput(
            kind="reward_referral",
            user_id=person.pk,
            counterpart_id=referral.beneficiary_id,
            subject=f"reward_campaign:{campaign.pk}",
            address=order.address if order is not None and order.address else None,
        )
    )
    referral.risk_event_id = decision.event_id
    if decision.action == DENY:
        referral.status, referral.reason = ReferralStatus.DENIED, decision.reason
    elif decision.held:
        referral.status, referral.reason = ReferralStatus.HELD, decision.reason
    else:
        referral.status, referral.reason = ReferralStatus.QUALIFIED, ""
    referral.save()
    log.info(
        "reward referral decided",
        extra={
            "referral_id": referral.pk,
            "campaign_id": campaign.pk,
            "beneficiary_id": referral.beneficiary_id,
            "person_id": person.pk,
            "status": referral.status,
            "reason": referral.reason,
        },
    )
    if referral.status == ReferralStatus.QUALIFIED:
        _tally(campaign, referral.beneficiary_id)


# --- granting ---------------------------------------------------------------------


def _tally(campaign: RewardCampaign, user_id: int) -> None:
    """Grant every reward the beneficiary's qualified people now add up to.

    Under the tally lock, qualified people not yet behind a grant are taken ``needed``
    at a time, oldest decision first, and marked with the grant they earned.
    """
    try:
        with transaction.atomic():
            RewardTally.objects.get_or_create(campaign=campaign, user_id=user_id)
    except IntegrityError:
        pass
    tally = RewardTally.objects.select_for_update().get(campaign=campaign, user_id=user_id)
    qualified = RewardReferral.objects.filter(
        campaign=campaign, beneficiary_id=user_id, status=ReferralStatus.QUALIFIED
    )
    free = list(qualified.filter(grant__isnull=True).order_by("decided_at", "pk"))
    while len(free) >= campaign.needed and (
        not campaign.max_per_user or tally.grants < campaign.max_per_user
    ):
        batch, free = free[: campaign.needed], free[campaign.needed :]
        tally.grants += 1
        grant = _grant(campaign, user_id, tally.grants, [r.person_id for r in batch])
        RewardReferral.objects.filter(pk__in=[r.pk for r in batch]).update(grant=grant)
    tally.qualified = qualified.count()
    tally.save(update_fields=["qualified", "grants"])


def _grant(campaign: RewardCampaign, user_id: int, seq: int, people: list[int]) -> RewardGrant:
    decision = risk_check(
        RiskInput(kind="reward_grant", user_id=user_id, subject=f"reward_campaign:{campaign.pk}")
    )
    grant = RewardGrant.objects.create(
        campaign=campaign,
        user_id=user_id,
        seq=seq,
        status=GrantStatus.HELD,
        reason=decision.reason,
        points=campaign.reward_points,
        coupon_template_id=campaign.reward_coupon_template_id,
        people=people,
        risk_event_id=decision.event_id,
    )
    if decision.action == DENY:
        grant.status = GrantStatus.DENIED
        grant.save(update_fields=["status"])
    elif decision.allowed:
        _deliver(grant)
    return grant


def _deliver(grant: RewardGrant) -> None:
    """Pay the grant out (points and coupon together, or neither)."""
    user = User.objects.get(pk=grant.user_id)
    try:
        with transaction.atomic():
            if grant.points:
                payouts.points_give(
                    user_id=user.pk,
                    amount=grant.points,
                    reason=f"reward_{grant.campaign.kind}",
                    key=f"reward:{grant.pk}",
                )
            if grant.coupon_template_id:
                grant.coupon_id = payouts.coupon_give(
                    user=user, template_id=grant.coupon_template_id, source=f"reward:{grant.pk}"
                )
    except QuanziError as exc:
        grant.status, grant.reason = GrantStatus.FAILED, exc.code[:40]
        grant.save(update_fields=["status", "reason"])
        log.warning("reward not paid", extra={"grant_id": grant.pk, "code": exc.code})
        return
    grant.status, grant.granted_at = GrantStatus.GRANTED, timezone.now()
    grant.save(update_fields=["status", "reason", "coupon_id", "granted_at"])
    log.info(
        "reward granted",
        extra={"grant_id": grant.pk, "user_id": user.pk, "campaign_id": grant.campaign_id},
    )


# --- events ---------------------------------------------------------------------------


def _live_campaigns(now: datetime, *, trigger: str | None = None):
    qs = RewardCampaign.objects.filter(is_active=True, starts_at__lte=now)
    if trigger:
        qs = qs.filter(trigger=trigger)
    return qs.order_by("pk")


def referrals_on_signup(*, person: User, campaign: RewardCampaign) -> RewardReferral | None:
    """Record a new person for one campaign: it waits, ``pending``, for its first paid
    order to settle (a sign-up alone decides nothing)."""
    return _referral_for(campaign, person)


def rewards_on_registered(person: User) -> None:
    """Registration hook (in the sign-up transaction): an invite code is known at once.

    People brought by a share link are attributed just after sign-up, so the scan
    (``rewards_scan_signups``) picks them up. A reward problem never blocks a sign-up.
    """
    now = timezone.now()
    for campaign in _live_campaigns(now):
        if campaign.kind != RewardKind.INVITE:
            continue
        try:
            with transaction.atomic():
                referrals_on_signup(person=person, campaign=campaign)
        except QuanziError as exc:
            log.warning(
                "reward on sign-up skipped",
                extra={"user_id": person.pk, "campaign_id": campaign.pk, "code": exc.code},
            )


def rewards_scan_signups(*, now: datetime | None = None, batch: int = 500) -> int:
    """Sweep: look at every sign-up since the last scan, per live campaign (idempotent)."""
    now = now or timezone.now()
    done = 0
    for campaign_id in _live_campaigns(now).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = RewardCampaign.objects.select_for_update().get(pk=campaign_id)
            users = User.objects.filter(
                pk__gt=campaign.scanned_user_id, date_joined__lte=now - SCAN_LAG
            )
            if campaign.ends_at is not None:
                users = users.filter(date_joined__lt=campaign.ends_at)
            people = list(users.order_by("pk")[:batch])
            for person in people:
                if referrals_on_signup(person=person, campaign=campaign) is not None:
                    done += 1
            if people:
                campaign.scanned_user_id = people[-1].pk
                campaign.save(update_fields=["scanned_user_id"])
    return done


def _counts_as_first_order(order) -> bool:
    """The order kept money and is the person's first such order to settle (an order
    refunded in full never settles; a lottery prize is not a purchase)."""
    from quanzi.orders.models import Order

    if order.payable - order.refunded_amount <= 0 or order.channel == "lottery":
        return False
    return (
        not Order.objects.filter(
            user_id=order.user_id,
            settled_at__isnull=False,
            payable__gt=F("refunded_amount"),
            pk__lt=order.pk,
        )
        .exclude(channel="lottery")
        .exists()
    )


def referrals_on_orders_settled(*, orders, now: datetime | None = None) -> int:
    """Orders settled (in their transaction): a person's first paid order that settles
    qualifies it, its after-sales window over."""
    now = now or timezone.now()
    campaigns = list(_live_campaigns(now, trigger=RewardTrigger.FIRST_ORDER))
    if not campaigns or not orders:
        return 0
    # Only people who signed up after a campaign started can be new to it.
    newcomers = {
        person.pk: person
        for person in User.objects.filter(
            pk__in={order.user_id for order in orders},
            date_joined__gte=min(c.starts_at for c in campaigns),
        )
    }
    done = 0
    for order in orders:
        person = newcomers.get(order.user_id)
        if person is None or not _counts_as_first_order(order):
            continue
        for campaign in campaigns:
            referral = _referral_for(campaign, person)
            if referral is not None and referral.status == ReferralStatus.PENDING:
                _decide(referral, order=order)
                done += 1
    return done


# --- operator review ----------------------------------------------------------------


def _refuse_sign_up_rewards(campaign: RewardCampaign) -> None:
    """A campaign closed for paying sign-ups alone pays nothing more, reviewed or not."""
    if campaign.trigger == RewardTrigger.REGISTER:
        raise Invalid(
            "recruitment_reward_forbidden",
            "this campaign rewarded sign-ups alone and was closed: it pays nothing more",
        )


@transaction.atomic
def referral_review(*, referral_id: int, approve: bool) -> RewardReferral:
    referral = (
        RewardReferral.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise NotFound("referral_not_found", "no such referral")
    if referral.status != ReferralStatus.HELD:
        raise Conflict("not_held", "only a held referral can be reviewed")
    if approve:
        _refuse_sign_up_rewards(referral.campaign)
    referral.status = ReferralStatus.QUALIFIED if approve else ReferralStatus.DENIED
    referral.reason = "approved" if approve else "rejected_by_operator"
    referral.decided_at = timezone.now()
    referral.save()
    if approve:
        _tally(referral.campaign, referral.beneficiary_id)
    return referral


@transaction.atomic
def grant_review(*, grant_id: int, approve: bool) -> RewardGrant:
    """Pay or refuse a held grant; approving a failed one tries to pay it again."""
    grant = (
        RewardGrant.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None:
        raise NotFound("grant_not_found", "no such reward")
    if grant.status not in (GrantStatus.HELD, GrantStatus.FAILED):
        raise Conflict("not_held", "only a held or failed reward can be reviewed")
    if approve:
        _refuse_sign_up_rewards(grant.campaign)
        grant.reason = "approved"
        _deliver(grant)
    else:
        grant.status, grant.reason = GrantStatus.DENIED, "rejected_by_operator"
        grant.save(update_fields=["status", "reason"])
    return grant
