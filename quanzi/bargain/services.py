"""Friend bargaining (砍价): campaigns, starting a bargain, helping, buying, expiry.

Each write is one short transaction. A help locks the bargain row, re-checks it under
the lock and writes the cut, so concurrent helpers never overshoot the floor or lose a
cut; one help per helper per bargain is also a unique constraint.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from quanzi.accounts.models import User
from quanzi.bargain.channel import BargainChannel, bargain_lock
from quanzi.bargain.cuts import BP, cut_amount, helpers_target_draw
from quanzi.bargain.models import Bargain, BargainCampaign, BargainHelp, BuyMode, HelperDay
from quanzi.bargain.models import BargainStatus as B
from quanzi.catalog.models import SKU
from quanzi.catalog.services import OutOfStock
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.money import yuan
from quanzi.notifications.services import notify
from quanzi.orders.models import Order
from quanzi.risk.services import DENY, RiskInput, risk_check

log = get_logger("quanzi.bargain")

ACTIVE = (B.OPEN, B.FLOOR_REACHED, B.ORDERED)
MAX_HELPERS = 1000
MAX_TTL = 30 * 86_400


def _int(name: str, value, *, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(
            "invalid_campaign", f"{name} must be a whole number in [{low}, {high}]", {"field": name}
        )
    return value


def campaign_create(
    *,
    sku_id: int,
    start_price: int,
    floor_price: int,
    helpers_min: int,
    helpers_max: int,
    ttl_seconds: int,
    per_user_limit: int,
    stock: int,
    title: str = "",
    helps_per_day: int = 3,
    new_user_cut_bp: int = 20_000,
    buy_mode: str = BuyMode.ANY_PRICE,
    accepts_coupon: bool = False,
    accepts_points: bool = False,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> BargainCampaign:
    """Set up a campaign. One SKU is in at most one bargain campaign at a time."""
    sku = SKU.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None or not sku.is_active or not sku.product.is_active:
        raise Invalid("sku_unavailable", "this item is not on sale", {"sku_id": sku_id})
    _int("start_price", start_price, low=1, high=sku.price)
    _int("floor_price", floor_price, low=0, high=start_price - 1)
    _int("helpers_min", helpers_min, low=1, high=MAX_HELPERS)
    _int("helpers_max", helpers_max, low=helpers_min, high=MAX_HELPERS)
    if start_price - floor_price < helpers_max:
        raise Invalid(
            "invalid_campaign",
            "start price − floor price must leave at least 1 fen for each helper",
            {"field": "floor_price"},
        )
    _int("ttl_seconds", ttl_seconds, low=60, high=MAX_TTL)
    _int("per_user_limit", per_user_limit, low=1, high=1000)
    _int("stock", stock, low=0, high=10_000_000)
    _int("helps_per_day", helps_per_day, low=1, high=1000)
    _int("new_user_cut_bp", new_user_cut_bp, low=BP, high=10 * BP)
    if buy_mode not in BuyMode.values:
        raise Invalid("invalid_campaign", "buy_mode is any_price or floor_only")
    if starts_at and ends_at and ends_at <= starts_at:
        raise Invalid("invalid_campaign", "ends_at must be after starts_at", {"field": "ends_at"})
    with transaction.atomic():
        # Lock the SKU so two operators cannot create overlapping campaigns at once.
        SKU.objects.select_for_update().filter(pk=sku.pk).first()
        overlapping = BargainCampaign.objects.filter(sku_id=sku.pk, is_active=True)
        if ends_at is not None:
            overlapping = overlapping.filter(Q(starts_at__isnull=True) | Q(starts_at__lt=ends_at))
        if starts_at is not None:
            overlapping = overlapping.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at))
        clash = overlapping.first()
        if clash is not None:
            raise Conflict(
                "campaign_overlap",
                "this item is already in a bargain campaign over the same time",
                {"campaign_id": clash.pk},
            )
        campaign = BargainCampaign.objects.create(
            title=(title or "").strip()[:120],
            sku=sku,
            start_price=start_price,
            floor_price=floor_price,
            helpers_min=helpers_min,
            helpers_max=helpers_max,
            ttl_seconds=ttl_seconds,
            per_user_limit=per_user_limit,
            helps_per_day=helps_per_day,
            new_user_cut_bp=new_user_cut_bp,
            stock=stock,
            buy_mode=buy_mode,
            accepts_coupon=accepts_coupon,
            accepts_points=accepts_points,
            starts_at=starts_at,
            ends_at=ends_at,
        )
    log.info("bargain campaign created", extra={"campaign_id": campaign.pk, "sku_id": sku.pk})
    return campaign


def campaign_close(*, campaign_id: int) -> BargainCampaign:
    """Stop new bargains; bargains already running keep their own deadline."""
    updated = BargainCampaign.objects.filter(pk=campaign_id).update(is_active=False)
    if not updated:
        raise NotFound("campaign_not_found", "no such bargain campaign")
    return BargainCampaign.objects.get(pk=campaign_id)


def _running(campaign: BargainCampaign, now: datetime) -> bool:
    return (
        campaign.is_active
        and (campaign.starts_at is None or campaign.starts_at <= now)
        and (campaign.ends_at is None or campaign.ends_at > now)
    )


def bargain_start(*, user: User, campaign_id: int) -> Bargain:
    """Open a bargain at the campaign's start price, with its seed and helper count."""
    now = timezone.now()
    campaign = BargainCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("campaign_not_found", "no such bargain campaign")
    if not _running(campaign, now):
        raise Conflict("campaign_closed", "this bargain campaign is not running")
    if campaign.stock < 1:
        raise OutOfStock("out_of_stock", "this bargain campaign is sold out")
    mine = Bargain.objects.filter(campaign=campaign, user=user)
    active = mine.filter(status__in=ACTIVE, expires_at__gt=now).first()
    if active is not None:
        raise Conflict(
            "bargain_in_progress",
            "you already have a bargain running in this campaign",
            {"bargain_id": active.pk},
        )
    attempt = mine.count() + 1
    if attempt > campaign.per_user_limit:
        raise Conflict(
            "attempts_exceeded",
            "you have used all your bargains in this campaign",
            {"per_user_limit": campaign.per_user_limit},
        )
    seed = secrets.randbits(63)
    expires_at = now + timedelta(seconds=campaign.ttl_seconds)
    if campaign.ends_at is not None:
        expires_at = min(expires_at, campaign.ends_at)
    try:
        with transaction.atomic():
            bargain = Bargain.objects.create(
                campaign=campaign,
                user=user,
                attempt=attempt,
                seed=seed,
                helpers_target=helpers_target_draw(
                    seed=seed, helpers_min=campaign.helpers_min, helpers_max=campaign.helpers_max
                ),
                start_price=campaign.start_price,
                floor_price=campaign.floor_price,
                current_price=campaign.start_price,
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        # The same user started another bargain at the same moment.
        raise Conflict(
            "attempts_exceeded", "you have just started a bargain in this campaign"
        ) from exc
    log.info(
        "bargain started",
        extra={"bargain_id": bargain.pk, "campaign_id": campaign.pk, "user_id": user.pk},
    )
    return bargain


def helper_is_brand_new(*, helper: User, bargain: Bargain) -> bool:
    """Brand new (拉新) = never paid an order, and signed up through this bargain's share.

    Decided from recorded facts only (orders, the share the account registered
    through), never from how recently the account was made.
    """
    if Order.objects.filter(user_id=helper.pk, paid_at__isnull=False).exists():
        return False
    from quanzi.bargain.attribution import registered_through_share

    return registered_through_share(user=helper, target="bargain", target_id=bargain.pk)


def _helper_quota_take(*, campaign: BargainCampaign, helper: User, day) -> None:
    quota = HelperDay.objects.filter(campaign=campaign, helper=helper, day=day).first()
    if quota is None:
        try:
            with transaction.atomic():
                quota = HelperDay.objects.create(campaign=campaign, helper=helper, day=day)
        except IntegrityError:
            quota = HelperDay.objects.get(campaign=campaign, helper=helper, day=day)
    taken = HelperDay.objects.filter(pk=quota.pk, used__lt=campaign.helps_per_day).update(
        used=F("used") + 1
    )
    if taken != 1:
        raise Conflict(
            "help_limit",
            "you have helped as many bargains as allowed today",
            {"helps_per_day": campaign.helps_per_day},
        )


def bargain_help(*, bargain_id: int, helper: User) -> BargainHelp:
    """Cut the bargain once for ``helper``: lock, check, cut, write."""
    owner_id = Bargain.objects.filter(pk=bargain_id).values_list("user_id", flat=True).first()
    if owner_id is None:
        raise NotFound("bargain_not_found", "no such bargain")
    if owner_id == helper.pk:
        raise Invalid("own_bargain", "you cannot help your own bargain")
    # Asked before the transaction, so that a refusal stays in the risk log. The other
    # helpers go with it: a bargain cut down by fresh accounts tied to each other (a ring
    # of made-up friends) is the same 刷单 as a group filled by them.
    helpers = BargainHelp.objects.filter(bargain_id=bargain_id).exclude(helper_id=owner_id)
    others = set(helpers.values_list("helper_id", flat=True))
    decision = risk_check(
        RiskInput(
            kind="bargain_help",
            user_id=helper.pk,
            counterpart_id=owner_id,
            subject=f"bargain:{bargain_id}",
            members=tuple(sorted(others | {helper.pk})),
        )
    )
    if decision.action == DENY:
        raise Forbidden(
            "risk_denied", "this help was refused by risk control", {"reason": decision.reason}
        )
    now = timezone.now()
    with transaction.atomic():
        bargain = bargain_lock(bargain_id)
        if bargain.status != B.OPEN or bargain.expires_at <= now:
            raise Conflict("bargain_closed", "this bargain is closed", {"status": bargain.status})
        if BargainHelp.objects.filter(bargain=bargain, helper=helper).exists():
            raise Conflict("already_helped", "you have already helped this bargain")
        _helper_quota_take(campaign=bargain.campaign, helper=helper, day=timezone.localdate(now))
        new_user = decision.allowed and helper_is_brand_new(helper=helper, bargain=bargain)
        boost = bargain.campaign.new_user_cut_bp if new_user else BP
        k = bargain.helpers_count + 1
        cut = cut_amount(
            seed=bargain.seed,
            k=k,
            remaining=bargain.current_price - bargain.floor_price,
            helpers_left=bargain.helpers_target - bargain.helpers_count,
            boost_bp=boost,
        )
        bargain.current_price -= cut
        bargain.helpers_count = k
        fields = ["current_price", "helpers_count"]
        if bargain.current_price == bargain.floor_price:
            bargain.status = B.FLOOR_REACHED
            bargain.floor_reached_at = now
            fields += ["status", "floor_reached_at"]
        bargain.save(update_fields=fields)
        if bargain.status == B.FLOOR_REACHED:
            notify(
                user_id=bargain.user_id,
                kind="bargain_floor_reached",
                title=_("Your bargain reached the lowest price"),
                body=_("Friends cut it to ¥%(price)s: buy it before it expires.")
                % {"price": yuan(bargain.current_price)},
                data={
                    "bargain_id": bargain.pk,
                    "url": f"/b/{bargain.pk}",
                    "price": bargain.current_price,
                },
            )
        help_ = BargainHelp.objects.create(
            bargain=bargain,
            helper=helper,
            seq=k,
            cut=cut,
            price_after=bargain.current_price,
            boost_bp=boost,
            new_user=new_user,
            risk_reason=decision.reason,
        )
    log.info(
        "bargain helped",
        extra={
            "bargain_id": bargain.pk,
            "helper_id": helper.pk,
            "cut": cut,
            "current_price": bargain.current_price,
        },
    )
    help_.bargain = bargain
    return help_


def bargain_self_cut(*, bargain_id: int, user: User) -> BargainHelp | None:
    """The starter's own first cut (自砍一刀), the first of the bargain's cuts.

    Taken once, by the owner, while the bargain is open and before any friend has
    helped. It is one cut more than the friends the bargain drew: ``helpers_target``
    grows by one and the owner's cut is cut number 1 of the seed, so as many friends
    are still needed, every cut stays a pure function of the seed and the last friend
    lands exactly on the floor. Asking again returns the first cut (or None when the
    bargain can no longer take it).
    """
    now = timezone.now()
    with transaction.atomic():
        bargain = bargain_lock(bargain_id)
        if bargain.user_id != user.pk:
            raise NotFound("bargain_not_found", "no such bargain")
        existing = BargainHelp.objects.filter(bargain=bargain, helper_id=user.pk).first()
        if existing is not None:
            return existing
        if (
            bargain.status != B.OPEN
            or bargain.expires_at <= now
            or bargain.helpers_count != 0
            or bargain.current_price - bargain.floor_price < bargain.helpers_target + 1
        ):
            return None
        bargain.helpers_target += 1
        cut = cut_amount(
            seed=bargain.seed,
            k=1,
            remaining=bargain.current_price - bargain.floor_price,
            helpers_left=bargain.helpers_target,
            boost_bp=BP,
        )
        bargain.current_price -= cut
        bargain.helpers_count = 1
        bargain.save(update_fields=["current_price", "helpers_count", "helpers_target"])
        help_ = BargainHelp.objects.create(
            bargain=bargain, helper=user, seq=1, cut=cut, price_after=bargain.current_price
        )
    log.info(
        "bargain self cut",
        extra={"bargain_id": bargain.pk, "cut": cut, "current_price": bargain.current_price},
    )
    help_.bargain = bargain
    return help_


def bargain_buy(
    *,
    bargain_id: int,
    user: User,
    address_id: int | None,
    coupon_id: int | None = None,
    points: int = 0,
) -> Order:
    """Place the order at the current price through the normal order pipeline."""
    from quanzi.orders.services import order_place

    bargain = Bargain.objects.select_related("campaign").filter(pk=bargain_id).first()
    if bargain is None or bargain.user_id != user.pk:
        raise NotFound("bargain_not_found", "no such bargain")
    return order_place(
        user=user,
        items=[{"sku_id": bargain.campaign.sku_id, "qty": 1}],
        address_id=address_id,
        coupon_id=coupon_id,
        points=points,
        channel=BargainChannel.name,
        extra={"bargain_id": bargain.pk},
    )


def bargains_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Sweep: close open bargains whose time is over (idempotent).

    A bargain with an order waiting for payment is left to that order: paying buys it,
    cancelling (or the payment timeout) closes it.
    """
    now = now or timezone.now()
    ids = list(
        Bargain.objects.filter(status__in=[B.OPEN, B.FLOOR_REACHED], expires_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    done = 0
    for bargain_id in ids:
        with transaction.atomic():
            bargain = bargain_lock(bargain_id)
            if bargain.status not in (B.OPEN, B.FLOOR_REACHED) or bargain.expires_at > now:
                continue
            bargain.status = B.EXPIRED
            bargain.closed_at = now
            bargain.save(update_fields=["status", "closed_at"])
            done += 1
    if done:
        log.info("bargains expired", extra={"count": done})
    return done
