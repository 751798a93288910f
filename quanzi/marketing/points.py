"""Points (积分): earned, spent, returned, clawed back and expired — all in the ledger.

Every movement locks the user's ``PointsWallet`` row, is recorded once per idempotency
key as a ``PointsTxn`` (what the user sees, with its reason) and posts one ledger entry
in the unit ``PTS``:

    credit (earn, sign-in, rewards)   Dr points_issued    Cr user:<id>:points
    spend on an order, other debits   Dr user:<id>:points Cr points_redeemed
    a spend returned (cancel/refund)  Dr points_redeemed  Cr user:<id>:points
    claw-back, owed points repaid     Dr user:<id>:points Cr points_issued
    expiry                            Dr user:<id>:points Cr points_expired

The user's account never goes below zero (``no_overdraw``). Points spent as money in an
order are worth ``yuan_per_100_points`` fen each (100 points = ¥1 × that setting by
default); the platform books that money as marketing subsidy when the order settles
(see ``quanzi.marketing.observer``).

Expiry: each credit is a lot expiring ``expire_after_days`` after it was credited;
spending takes the lots that expire first; points returned from a cancelled or refunded
order come back with the latest expiry of the lots they were taken from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from quanzi.core.errors import Invalid
from quanzi.core.logging import get_logger
from quanzi.core.money import BP
from quanzi.core.platform_settings import get_settings
from quanzi.ledger import accounts as chart
from quanzi.ledger.models import POINTS, Account
from quanzi.ledger.services import Leg, Overdrawn, entry_post
from quanzi.marketing.models import PointsKind as K
from quanzi.marketing.models import PointsLot, PointsTxn, PointsWallet

log = get_logger("quanzi.points")

POINTS_ISSUED = "points_issued"
POINTS_REDEEMED = "points_redeemed"
POINTS_EXPIRED = "points_expired"
MAX_MOVE = 1_000_000_000

_CONTRA = {
    K.EARN: POINTS_ISSUED,
    K.SIGN_IN: POINTS_ISSUED,
    K.CREDIT: POINTS_ISSUED,
    K.SPEND: POINTS_REDEEMED,
    K.SPEND_RETURN: POINTS_REDEEMED,
    K.DEBIT: POINTS_REDEEMED,
    K.CLAWBACK: POINTS_ISSUED,
    K.OWED_REPAID: POINTS_ISSUED,
    K.EXPIRE: POINTS_EXPIRED,
}


def points_account(user_id: int) -> str:
    return chart.user_account(user_id, "points")


def points_balance(*, user_id: int) -> int:
    """What the user holds (from the ledger's cached balance, proven against postings)."""
    cached = (
        Account.objects.filter(code=points_account(user_id))
        .values_list("balance", flat=True)
        .first()
    )
    return -(cached or 0)


def _wallet(user_id: int) -> PointsWallet:
    PointsWallet.objects.get_or_create(user_id=user_id)
    return PointsWallet.objects.select_for_update().get(user_id=user_id)


def _validate(amount: int, key: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_MOVE:
        raise Invalid("invalid_points", "points move in whole numbers above zero")
    if not key or len(key) > 120:
        raise Invalid("invalid_points_key", "a points movement needs a key of at most 120 chars")


def _book(
    *,
    user_id: int,
    kind: str,
    amount: int,
    reason: str,
    key: str,
    order_id: int | None = None,
    **fields,
) -> PointsTxn:
    """Record a movement (signed) and post its ledger entry; the wallet is locked."""
    txn = PointsTxn.objects.create(
        user_id=user_id,
        kind=kind,
        amount=amount,
        reason=reason[:60],
        key=key,
        order_id=order_id,
        **fields,
    )
    if amount:
        try:
            with transaction.atomic():
                entry_post(
                    key=f"points:{key}",
                    kind=f"points_{kind}",
                    legs=[
                        Leg(
                            points_account(user_id),
                            -amount,
                            unit=POINTS,
                            user_id=user_id,
                            no_overdraw=True,
                        ),
                        Leg(_CONTRA[kind], amount, unit=POINTS),
                    ],
                    order_id=order_id,
                    memo=reason,
                )
        except Overdrawn as exc:
            raise Invalid(
                "insufficient_points", "you do not have that many points", {"field": "points"}
            ) from exc
    log.info(
        "points moved",
        extra={"user_id": user_id, "kind": kind, "amount": amount, "order_id": order_id},
    )
    return txn


def _consume(user_id: int, amount: int) -> list[list[int]]:
    """Take ``amount`` from the user's live lots, soonest expiry first."""
    taken: list[list[int]] = []
    left = amount
    for lot in PointsLot.objects.filter(user_id=user_id, remaining__gt=0).order_by(
        "expires_at", "id"
    ):
        if left == 0:
            break
        part = min(left, lot.remaining)
        lot.remaining -= part
        lot.save(update_fields=["remaining"])
        taken.append([lot.pk, part])
        left -= part
    if left:
        raise Invalid("insufficient_points", "you do not have that many points")
    return taken


def _available(user_id: int) -> int:
    total = PointsLot.objects.filter(user_id=user_id, remaining__gt=0).aggregate(
        total=Sum("remaining")
    )["total"]
    return int(total or 0)


def _expire_due(user_id: int, now: datetime) -> int:
    """Expire the user's lots whose time has come (wallet locked). Returns points expired."""
    expired = 0
    for lot in PointsLot.objects.filter(
        user_id=user_id, remaining__gt=0, expires_at__lte=now
    ).order_by("id"):
        amount = lot.remaining
        lot.remaining = 0
        lot.save(update_fields=["remaining"])
        _book(
            user_id=user_id,
            kind=K.EXPIRE,
            amount=-amount,
            reason="expired",
            key=f"expire:{lot.pk}",
            lots=[[lot.pk, amount]],
        )
        expired += amount
    return expired


def _credit(
    wallet: PointsWallet,
    *,
    kind: str,
    amount: int,
    reason: str,
    key: str,
    order_id: int | None = None,
    expires_at: datetime | None = None,
    base: int = 0,
) -> PointsTxn:
    user_id = wallet.user_id
    txn = _book(
        user_id=user_id,
        kind=kind,
        amount=amount,
        reason=reason,
        key=key,
        order_id=order_id,
        base=base,
    )
    if expires_at is None:
        expires_at = timezone.now() + timedelta(days=get_settings().points.expire_after_days)
    PointsLot.objects.create(
        user_id=user_id, amount=amount, remaining=amount, expires_at=expires_at, txn=txn
    )
    if wallet.owed:
        repay = min(wallet.owed, amount)
        _book(
            user_id=user_id,
            kind=K.OWED_REPAID,
            amount=-repay,
            reason="owed_repaid",
            key=f"{key}:owed"[:120],
            order_id=order_id,
            lots=_consume(user_id, repay),
        )
        wallet.owed -= repay
        wallet.save(update_fields=["owed"])
    return txn


def _debit(
    wallet: PointsWallet,
    *,
    kind: str,
    amount: int,
    reason: str,
    key: str,
    order_id: int | None = None,
) -> PointsTxn:
    user_id = wallet.user_id
    _expire_due(user_id, timezone.now())
    available = _available(user_id)
    if available < amount:
        raise Invalid(
            "insufficient_points",
            "you do not have that many points",
            {"balance": available, "field": "points"},
        )
    return _book(
        user_id=user_id,
        kind=kind,
        amount=-amount,
        reason=reason,
        key=key,
        order_id=order_id,
        lots=_consume(user_id, amount),
    )


def points_credit(*, user_id: int, amount: int, reason: str, key: str) -> PointsTxn:
    """Give a user points (rewards, prizes, operator grants). Idempotent on ``key``."""
    _validate(amount, key)
    with transaction.atomic():
        wallet = _wallet(user_id)
        existing = PointsTxn.objects.filter(key=key).first()
        if existing is not None:
            return existing
        return _credit(wallet, kind=K.CREDIT, amount=amount, reason=reason, key=key)


def points_debit(*, user_id: int, amount: int, reason: str, key: str) -> PointsTxn:
    """Take points from a user (a lottery draw…); 422 ``insufficient_points`` when short.
    Idempotent on ``key``."""
    _validate(amount, key)
    with transaction.atomic():
        wallet = _wallet(user_id)
        existing = PointsTxn.objects.filter(key=key).first()
        if existing is not None:
            return existing
        return _debit(wallet, kind=K.DEBIT, amount=amount, reason=reason, key=key)


def points_clawback(*, user_id: int, amount: int, reason: str, key: str) -> int:
    """Take back points credited earlier whose reason went away (a review's points when
    its order is refunded in full). What the user spent meanwhile is owed and repaid from
    the next credits, as for orders' claw-backs. Idempotent on ``key``; returns the claim."""
    _validate(amount, key)
    with transaction.atomic():
        wallet = _wallet(user_id)
        if PointsTxn.objects.filter(key=key).exists():
            return 0
        _expire_due(user_id, timezone.now())
        take = min(amount, _available(user_id))
        _book(
            user_id=user_id,
            kind=K.CLAWBACK,
            amount=-take,
            reason=reason,
            key=key,
            claimed=amount,
            lots=_consume(user_id, take) if take else [],
        )
        if amount > take:
            wallet.owed += amount - take
            wallet.save(update_fields=["owed"])
        return amount


def sign_in_credit(*, user_id: int, points: int, day) -> PointsTxn | None:
    """The daily sign-in's points (the caller records the sign-in in the same transaction)."""
    if points <= 0:
        return None
    wallet = _wallet(user_id)
    return _credit(
        wallet,
        kind=K.SIGN_IN,
        amount=points,
        reason="sign_in",
        key=f"sign-in:{user_id}:{day.isoformat()}",
    )


# --- orders ---------------------------------------------------------------------


def order_points_spend(*, order) -> None:
    """Debit the points an order was priced with (placement transaction)."""
    if order.points_used <= 0:
        return
    wallet = _wallet(order.user_id)
    key = f"order:{order.pk}:spend"
    if PointsTxn.objects.filter(key=key).exists():
        return
    _debit(
        wallet,
        kind=K.SPEND,
        amount=order.points_used,
        reason="order_spend",
        key=key,
        order_id=order.pk,
    )


def _points_share_refunded(order, spent: int) -> int:
    """How many of ``spent`` points belong to what the order has refunded so far."""
    lines = list(order.lines.all())
    total = sum(line.points_discount for line in lines)
    if total <= 0:
        return spent if all(line.refunded_qty == line.qty for line in lines) else 0
    refunded = 0
    for line in lines:
        if line.refunded_qty >= line.qty:
            refunded += line.points_discount
        else:
            refunded += line.points_discount * line.refunded_qty // line.qty
    return spent if refunded >= total else spent * refunded // total


def order_points_return(*, order, refund=None) -> int:
    """Give back the points an order spent: all of them when it is cancelled, the share
    of what was refunded otherwise (cumulative, so several partial refunds add up to all
    of them once everything is refunded). Returns the points given back now."""
    spend = PointsTxn.objects.filter(order_id=order.pk, kind=K.SPEND).first()
    if spend is None:
        return 0
    wallet = _wallet(order.user_id)
    key = f"order:{order.pk}:spend-return:{refund.pk if refund is not None else 'cancel'}"
    if PointsTxn.objects.filter(key=key).exists():
        return 0
    spent = -spend.amount
    target = spent if refund is None else _points_share_refunded(order, spent)
    returned = (
        PointsTxn.objects.filter(order_id=order.pk, kind=K.SPEND_RETURN).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    amount = target - returned
    if amount <= 0:
        return 0
    lot_ids = [lot_id for lot_id, _ in spend.lots]
    latest = (
        PointsLot.objects.filter(pk__in=lot_ids)
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    _credit(
        wallet,
        kind=K.SPEND_RETURN,
        amount=amount,
        reason="order_spend_returned",
        key=key,
        order_id=order.pk,
        expires_at=latest,
    )
    return amount


def order_points_earn(*, order, multiplier_bp: int = BP) -> int:
    """Credit the points a completed order earns: ``earn_per_yuan`` per yuan it really paid
    for its goods (after discounts, excluding shipping, less refunds), times the
    member multiplier. Returns the points credited."""
    settings = get_settings().points
    lines = list(order.lines.all())
    base = sum(line.paid - line.refunded_amount for line in lines)
    points = base * settings.earn_per_yuan * multiplier_bp // (100 * BP)
    if points <= 0:
        return 0
    wallet = _wallet(order.user_id)
    key = f"order:{order.pk}:earn"
    if PointsTxn.objects.filter(key=key).exists():
        return 0
    _credit(
        wallet,
        kind=K.EARN,
        amount=points,
        reason="order_earn",
        key=key,
        order_id=order.pk,
        base=base,
    )
    return points


def order_points_clawback(*, order, refund) -> int:
    """Take back the share of an order's earned points that its refunds cancelled.

    Points the user has spent meanwhile are recorded as owed and repaid from the next
    credits: a claw-back is never capped and forgotten. Returns the points claimed now.
    """
    earn = PointsTxn.objects.filter(order_id=order.pk, kind=K.EARN).first()
    if earn is None or earn.base <= 0:
        return 0
    wallet = _wallet(order.user_id)
    key = f"order:{order.pk}:clawback:{refund.pk}"
    if PointsTxn.objects.filter(key=key).exists():
        return 0
    kept_base = sum(line.paid - line.refunded_amount for line in order.lines.all())
    kept_base = max(0, min(kept_base, earn.base))
    target = earn.amount - earn.amount * kept_base // earn.base
    claimed = (
        PointsTxn.objects.filter(order_id=order.pk, kind=K.CLAWBACK).aggregate(
            total=Sum("claimed")
        )["total"]
        or 0
    )
    claim = target - claimed
    if claim <= 0:
        return 0
    _expire_due(order.user_id, timezone.now())
    take = min(claim, _available(order.user_id))
    _book(
        user_id=order.user_id,
        kind=K.CLAWBACK,
        amount=-take,
        reason="order_earn_clawed_back",
        key=key,
        order_id=order.pk,
        claimed=claim,
        lots=_consume(order.user_id, take) if take else [],
    )
    if claim > take:
        wallet.owed += claim - take
        wallet.save(update_fields=["owed"])
    return claim


# --- sweeps ---------------------------------------------------------------------


def points_expire_due(*, now=None, batch: int = 500) -> int:
    """Sweep: expire every lot whose time has come (idempotent). Returns users touched."""
    now = now or timezone.now()
    user_ids = list(
        PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:batch]
    )
    done = 0
    for user_id in user_ids:
        with transaction.atomic():
            _wallet(user_id)
            if _expire_due(user_id, now):
                done += 1
    return done


# --- pricing ----------------------------------------------------------------------


def points_deduction(user, points: int, goods: int, settings) -> int:
    """The pricing hook: what ``points`` take off ``goods`` (fen, after the coupon).

    Each point is worth ``yuan_per_100_points`` fen; at most ``max_deduct_share_bp`` of
    the goods may be paid with points, and never all of them unless the operator allows
    free orders. Asking for more than that, or more than one holds, is refused (422).
    """
    rate = settings.points.yuan_per_100_points
    if rate <= 0:
        raise Invalid(
            "points_unavailable", "points cannot be spent as money now", {"field": "points"}
        )
    balance = points_balance(user_id=user.pk)
    if points > balance:
        raise Invalid(
            "insufficient_points",
            "you do not have that many points",
            {"balance": balance, "field": "points"},
        )
    limit = goods * settings.points.max_deduct_share_bp // BP
    if not settings.points.allow_free_orders:
        limit = min(limit, goods - 1)
    limit = max(limit, 0)
    fen = points * rate
    if fen > limit:
        raise Invalid(
            "invalid_points",
            f"at most {limit // rate} points can be used on this order",
            {"reason": "over_limit", "max_points": limit // rate, "field": "points"},
        )
    return fen


def points_max_for(*, user_id: int, goods: int, settings=None) -> int:
    """How many points the user may spend on ``goods`` fen (for checkout pages)."""
    settings = settings or get_settings()
    rate = settings.points.yuan_per_100_points
    if rate <= 0:
        return 0
    limit = goods * settings.points.max_deduct_share_bp // BP
    if not settings.points.allow_free_orders:
        limit = min(limit, goods - 1)
    return max(0, min(limit // rate, points_balance(user_id=user_id)))
