"""Lottery (抽奖): a prize pool with weights and stock; every draw logged with its seed.

* The pick is a pure function: ``draw_roll(seed, total)`` is a whole number in
  ``[0, total)`` where ``total`` is the sum of the in-stock weights, and
  ``prize_pick(pool, roll)`` walks the cumulative weights. Every roll matches exactly
  one prize and no roll matches none (a failure seen in other malls).
* A draw is one transaction: take the free draw or the points, pick, take one unit of
  the prize with a conditional UPDATE (never below zero, whatever runs beside it), give
  the prize. A prize that runs out meanwhile drops out and the pick is redone over what
  is left, from the same seed; the pool the final pick used is stored with the draw.
* A product prize's units are set aside from SKU stock when the lottery is created, so a
  winner always gets one; the winner claims it with an address and receives a zero-price
  order through the "lottery" channel.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.models import SKU
from quanzi.catalog.services import stock_release, stock_reserve
from quanzi.core.errors import Conflict, Invalid, NotFound, QuanziError
from quanzi.core.logging import get_logger
from quanzi.rewards import payouts
from quanzi.rewards.models import DrawStatus, Lottery, LotteryDay, LotteryDraw, LotteryPrize
from quanzi.rewards.models import PrizeKind as K

log = get_logger("quanzi.lottery")

MAX_PRIZES = 50


def draw_roll(seed: int, total: int) -> int:
    """A roll in ``[0, total)`` from the seed (SHA-256, reproducible anywhere)."""
    if total < 1:
        raise ValueError("the pool has no weight")
    digest = hashlib.sha256(f"{seed}:roll".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


def prize_pick(pool: Sequence[Sequence[int]], roll: int) -> int:
    """The prize id whose cumulative weight band holds ``roll`` (pool: (id, weight))."""
    upper = 0
    for prize_id, weight in pool:
        upper += weight
        if roll < upper:
            return prize_id
    raise ValueError(f"roll {roll} is outside the pool's total weight {upper}")


def draw_replay(*, seed: int, pool: Sequence[Sequence[int]]) -> int:
    """Audit a logged draw: the prize id its seed and pool give."""
    return prize_pick(pool, draw_roll(seed, sum(weight for _, weight in pool)))


# --- operator -----------------------------------------------------------------


def _clean_prize(data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 60:
        raise Invalid("invalid_prize", "a prize needs a name of at most 60 characters")
    kind = data.get("kind")
    if kind not in K.values:
        raise Invalid("invalid_prize", "kind is points, coupon, product or none", {"name": name})
    weight, stock = data.get("weight"), data.get("stock")
    if not isinstance(weight, int) or not 0 <= weight <= 1_000_000_000:
        raise Invalid("invalid_prize", "weight is a whole number ≥ 0", {"name": name})
    if stock is not None and (not isinstance(stock, int) or not 0 <= stock <= 10_000_000):
        raise Invalid("invalid_prize", "stock is a whole number ≥ 0, or null", {"name": name})
    clean: dict[str, Any] = {"name": name, "kind": kind, "weight": weight, "stock": stock}
    if kind == K.POINTS:
        points = data.get("points")
        if not isinstance(points, int) or not 1 <= points <= 100_000_000:
            raise Invalid("invalid_prize", "a points prize says how many points", {"name": name})
        clean["points"] = points
    elif kind == K.COUPON:
        template_id = data.get("coupon_template_id")
        if not isinstance(template_id, int):
            raise Invalid("invalid_prize", "a coupon prize names its template", {"name": name})
        if not payouts.coupon_template_exists(template_id):
            raise Invalid(
                "invalid_coupon_template",
                "no such coupon template",
                {"name": name, "field": "coupon_template_id"},
            )
        clean["coupon_template_id"] = template_id
    elif kind == K.PRODUCT:
        sku_id = data.get("sku_id")
        sku = SKU.objects.filter(pk=sku_id).first() if isinstance(sku_id, int) else None
        if sku is None:
            raise Invalid("invalid_prize", "a product prize names an SKU", {"name": name})
        if stock is None:
            raise Invalid("invalid_prize", "a product prize has a finite stock", {"name": name})
        clean["sku"] = sku
    return clean


@transaction.atomic
def lottery_create(
    *,
    title: str,
    cost_points: int,
    free_draws_per_day: int,
    prizes: list[dict[str, Any]],
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Lottery:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise Invalid("invalid_lottery", "a lottery needs a title of at most 120 characters")
    for name, value in (("cost_points", cost_points), ("free_draws_per_day", free_draws_per_day)):
        if not isinstance(value, int) or not 0 <= value <= 100_000_000:
            raise Invalid("invalid_lottery", f"{name} is a whole number ≥ 0", {"field": name})
    if cost_points == 0 and free_draws_per_day == 0:
        raise Invalid("invalid_lottery", "a lottery costs points or gives free draws (or both)")
    if not prizes or len(prizes) > MAX_PRIZES:
        raise Invalid("prize_pool_invalid", f"a lottery has 1 to {MAX_PRIZES} prizes")
    clean = [_clean_prize(p) for p in prizes]
    if sum(p["weight"] for p in clean) == 0:
        raise Invalid("prize_pool_invalid", "at least one prize needs a weight above 0")
    if starts_at and ends_at and ends_at <= starts_at:
        raise Invalid("invalid_lottery", "ends_at must be after starts_at")
    lottery = Lottery.objects.create(
        title=title,
        cost_points=cost_points,
        free_draws_per_day=free_draws_per_day,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    for sort, prize in enumerate(clean):
        if prize["kind"] == K.PRODUCT and prize["stock"]:
            # Set the units aside now, so that every winner gets one.
            stock_reserve(sku_id=prize["sku"].pk, qty=prize["stock"])
        LotteryPrize.objects.create(lottery=lottery, sort=sort, **prize)
    log.info("lottery created", extra={"lottery_id": lottery.pk})
    return lottery


@transaction.atomic
def lottery_close(*, lottery_id: int) -> Lottery:
    """Stop drawing and give unawarded product units back to SKU stock (idempotent)."""
    lottery = Lottery.objects.select_for_update().filter(pk=lottery_id).first()
    if lottery is None:
        raise NotFound("lottery_not_found", "no such lottery")
    lottery.is_active = False
    lottery.save(update_fields=["is_active"])
    for prize in LotteryPrize.objects.select_for_update().filter(
        lottery=lottery, kind=K.PRODUCT, stock__gt=0
    ):
        stock_release(sku_id=prize.sku_id, qty=prize.stock)
        prize.stock = 0
        prize.save(update_fields=["stock"])
    return lottery


def prize_unit_return(*, prize_id: int, qty: int) -> None:
    """Units of a product prize come back from a winner (its order was refunded before
    shipping): into the pool while the lottery runs, onto the SKU's shelf once closed.
    Runs in the refund's transaction."""
    prize = LotteryPrize.objects.select_for_update().select_related("lottery").get(pk=prize_id)
    if prize.lottery.is_active:
        prize.stock = (prize.stock or 0) + qty
    else:
        stock_release(sku_id=prize.sku_id, qty=qty)
    prize.given -= qty
    prize.save(update_fields=["stock", "given"])
    log.info("prize unit returned", extra={"prize_id": prize.pk, "qty": qty})


# --- drawing ------------------------------------------------------------------


def _running(lottery: Lottery, now: datetime) -> bool:
    return (
        lottery.is_active
        and (lottery.starts_at is None or lottery.starts_at <= now)
        and (lottery.ends_at is None or lottery.ends_at > now)
    )


def _free_draw_take(*, lottery: Lottery, user: User, day) -> bool:
    if lottery.free_draws_per_day == 0:
        return False
    row = LotteryDay.objects.filter(lottery=lottery, user=user, day=day).first()
    if row is None:
        try:
            with transaction.atomic():
                row = LotteryDay.objects.create(lottery=lottery, user=user, day=day)
        except IntegrityError:
            row = LotteryDay.objects.get(lottery=lottery, user=user, day=day)
    taken = LotteryDay.objects.filter(pk=row.pk, free_used__lt=lottery.free_draws_per_day).update(
        free_used=F("free_used") + 1
    )
    return taken == 1


def free_draws_left(*, lottery: Lottery, user: User) -> int:
    used = (
        LotteryDay.objects.filter(lottery=lottery, user=user, day=timezone.localdate())
        .values_list("free_used", flat=True)
        .first()
    )
    return max(0, lottery.free_draws_per_day - (used or 0))


class _Unavailable(Exception):
    """This prize cannot be given now (sold out meanwhile, or its coupon refused)."""


def _give(prize: LotteryPrize, draw: LotteryDraw, user: User) -> None:
    """Take one unit of ``prize`` and hand it to the winner (inside a savepoint)."""
    units = LotteryPrize.objects.filter(pk=prize.pk)
    if prize.stock is not None:
        units = units.filter(stock__gte=1)
        taken = units.update(stock=F("stock") - 1, given=F("given") + 1)
    else:
        taken = units.update(given=F("given") + 1)
    if taken != 1:
        raise _Unavailable
    draw.kind = prize.kind
    if prize.kind == K.POINTS:
        payouts.points_give(
            user_id=user.pk, amount=prize.points, reason="lottery", key=f"lottery:{draw.pk}"
        )
        draw.status = DrawStatus.WON
    elif prize.kind == K.COUPON:
        try:
            draw.coupon_id = payouts.coupon_give(
                user=user, template_id=prize.coupon_template_id, source=f"lottery:{draw.pk}"
            )
        except QuanziError as exc:
            log.warning(
                "lottery coupon refused",
                extra={"draw_id": draw.pk, "prize_id": prize.pk, "code": exc.code},
            )
            raise _Unavailable from exc
        draw.status = DrawStatus.WON
    elif prize.kind == K.PRODUCT:
        draw.status = DrawStatus.UNCLAIMED
    else:
        draw.status = DrawStatus.LOST


def lottery_draw(*, user: User, lottery_id: int) -> LotteryDraw:
    """Draw once: a free draw of the day if one is left, otherwise ``cost_points``."""
    now = timezone.now()
    lottery = Lottery.objects.filter(pk=lottery_id).first()
    if lottery is None:
        raise NotFound("lottery_not_found", "no such lottery")
    if not _running(lottery, now):
        raise Conflict("lottery_closed", "this lottery is not running")
    with transaction.atomic():
        day = timezone.localdate(now)
        free = _free_draw_take(lottery=lottery, user=user, day=day)
        if not free and lottery.cost_points == 0:
            raise Conflict(
                "no_draws_left",
                "no free draws are left today",
                {"free_draws_per_day": lottery.free_draws_per_day},
            )
        draw = LotteryDraw.objects.create(
            lottery=lottery,
            user=user,
            seed=secrets.randbits(63),
            free=free,
            cost_points=0 if free else lottery.cost_points,
            day=day,
        )
        if not free:
            payouts.points_take(
                user_id=user.pk,
                amount=lottery.cost_points,
                reason="lottery_draw",
                key=f"lottery_draw:{draw.pk}",
            )
        excluded: set[int] = set()
        while True:
            prizes = {
                p.pk: p
                for p in LotteryPrize.objects.filter(lottery=lottery, weight__gt=0)
                .filter(Q(stock__isnull=True) | Q(stock__gt=0))
                .exclude(pk__in=excluded)
                .order_by("pk")
            }
            if not prizes:
                raise Conflict("prize_pool_empty", "every prize of this lottery is gone")
            pool = [[pk, prize.weight] for pk, prize in prizes.items()]
            roll = draw_roll(draw.seed, sum(weight for _, weight in pool))
            prize = prizes[prize_pick(pool, roll)]
            try:
                with transaction.atomic():
                    _give(prize, draw, user)
            except _Unavailable:
                excluded.add(prize.pk)
                continue
            break
        draw.prize, draw.pool, draw.roll = prize, pool, roll
        draw.save()
    log.info(
        "lottery draw",
        extra={
            "draw_id": draw.pk,
            "lottery_id": lottery.pk,
            "user_id": user.pk,
            "prize_id": prize.pk,
            "kind": prize.kind,
            "seed": draw.seed,
            "roll": roll,
        },
    )
    return draw


def lottery_claim(*, draw_id: int, user: User, address_id: int | None):
    """The winner of a product gets it as a zero-price order to ship."""
    from quanzi.orders.services import order_place
    from quanzi.rewards.channel import LotteryChannel

    draw = LotteryDraw.objects.select_related("prize").filter(pk=draw_id).first()
    if draw is None or draw.user_id != user.pk:
        raise NotFound("draw_not_found", "no such draw")
    if draw.kind != K.PRODUCT:
        raise Conflict("nothing_to_claim", "this draw did not win a product")
    return order_place(
        user=user,
        items=[{"sku_id": draw.prize.sku_id, "qty": 1}],
        address_id=address_id,
        channel=LotteryChannel.name,
        extra={"draw_id": draw.pk},
    )
