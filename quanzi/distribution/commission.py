"""Commissions (佣金) on real sales: who earns, how much, and their lifecycle.

**Who** (decided at payment, in the payment's transaction, from recorded facts):

* level 1 — the buyer's valid referrer. When the buyer has none (and the order's share
  link could not bind one, see binding.py), the sharer of the order's share link — a
  shop's link included — earns level 1 instead (source ``share``);
* level 2 — the level-1 earner's valid referrer, unless the buyer is detached (ranks.py)
  or the operator set ``levels`` to 1.
* Nobody else, ever: there is no third level in any code path, and the database refuses
  a commission whose level is not 1 or 2. A level whose earner does not qualify as a
  distributor (distributors.py) is not paid, and is not passed further up. The buyer
  never earns on its own order.
* Nothing is paid on orders with ``commission_enabled`` off (e.g. group-buying
  campaigns that say so), on membership fees (channel ``membership``), or when
  distribution is switched off.

**How much**, per order line and level: the product's ``levelN_fixed`` (fen per unit ×
quantity) if set, else ``apply_bp(line.paid, levelN_rate_bp)`` with the product's rate
or the global default; then × the earner's rank multiplier. ``line.paid`` is what the
line really paid after coupon and points, shipping excluded. Both levels together never
exceed ``max_commission_share_bp`` of ``line.paid``: above it the cap is split between
the levels in proportion to their amounts (largest remainder, so it adds up exactly).

**Lifecycle**: ``frozen`` at payment → ``available`` when the order settles (its
after-sales window ended; the money moves from the order to the earner's
``commission_available`` account) → ``withdrawn`` as paid withdrawals use it up, oldest
first. A refund reverses each line's commissions in proportion to the line's refunded
amount, computed from the commission record (cumulatively: the reversed part is
``amount × refunded ÷ paid``, all of it when the line is refunded in full), so it never
exceeds what was earned. After settlement the reversal is a clawback booked against
the earner's available balance — also when it was withdrawn already, in which case the
balance goes negative and later earnings pay the debt. Nothing is ever dropped.

**Risk**: each earner is checked against the buyer (``risk_check`` kind ``commission``:
related accounts, bursts…). A commission risk control does not allow is ``held``: it
settles into ``commission_held`` and waits for the operator to release or void it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.accounts.services import referrer_is_valid
from quanzi.core.logging import get_logger
from quanzi.core.money import BP, apply_bp, split_largest_remainder
from quanzi.core.platform_settings import get_settings
from quanzi.core.settings_schema import DistributionSettings
from quanzi.core.sql import rows_of, rows_update
from quanzi.distribution import books
from quanzi.distribution.distributors import MEMBERSHIP_CHANNEL, distributor_is_qualified
from quanzi.distribution.models import (
    Commission,
    CommissionReversal,
    CommissionStatus,
    DistributorProfile,
)
from quanzi.ledger import accounts as chart
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.channels import OrderObserver
from quanzi.orders.models import Order, OrderLine

log = get_logger("quanzi.distribution")

MAX_LEVELS = 2  # the law's limit, not a setting: 3+ levels of team pay is a pyramid (传销)


@dataclass(frozen=True)
class Earner:
    level: int
    user_id: int
    source: str
    multiplier_bp: int


def order_earns_commission(order: Order, settings: DistributionSettings) -> bool:
    return bool(
        settings.enabled and order.commission_enabled and order.channel != MEMBERSHIP_CHANNEL
    )


def _multiplier(user_id: int) -> int:
    profile = DistributorProfile.objects.select_related("rank").filter(user_id=user_id).first()
    if profile is None or profile.rank is None:
        return BP
    return profile.rank.multiplier_bp


def _valid_referrer_id(user_id: int) -> int | None:
    """The user's referrer while the binding lasts (``referrer_is_valid``), in one
    written-out statement: asked for every paid order."""
    conn = transaction.get_connection()
    expires = User._meta.get_field("referrer_expires_at")
    rows = rows_of(
        f"SELECT CASE WHEN referrer_expires_at IS NULL OR referrer_expires_at > %s"
        f" THEN referrer_id END FROM {conn.ops.quote_name(User._meta.db_table)} WHERE id = %s",
        [expires.get_db_prep_value(timezone.now(), conn), user_id],
    )
    if not rows:
        raise User.DoesNotExist(f"no user {user_id}")
    return rows[0][0]


def _is_detached(user_id: int) -> bool:
    return DistributorProfile.objects.filter(user_id=user_id, detached_at__isnull=False).exists()


# Claims on the first level (``(order) -> (user_id, source) | None``), registered by
# feature apps from ``ready()``: whoever claims an order takes level 1 in place of the
# buyer's referrer (a circle's owner on sales through the circle's deals). Level 2 is
# still the level-1 earner's referrer; a claim never adds a level.
_level1_claims: list[Callable[[Order], tuple[int, str] | None]] = []


def register_level1_claim(claim: Callable[[Order], tuple[int, str] | None]) -> None:
    if claim not in _level1_claims:
        _level1_claims.append(claim)


def _claimed_level1(order: Order) -> tuple[int, str] | None:
    for claim in _level1_claims:
        found = claim(order)
        if found is not None:
            return found
    return None


def earners_for(order: Order, *, share_sharer_id: int | None, settings) -> list[Earner]:
    """The (at most two) uplines that earn on ``order``."""
    buyer_id = order.user_id
    claimed = _claimed_level1(order)
    if claimed is not None and claimed[0] != buyer_id:
        level1, source = claimed
    else:
        level1, source = _valid_referrer_id(buyer_id), "referrer"
    if level1 is None and share_sharer_id is not None and share_sharer_id != buyer_id:
        level1, source = share_sharer_id, "share"
    if level1 is None or level1 == buyer_id:
        return []
    chain = [(1, level1, source)]
    if settings.levels >= 2 and not _is_detached(buyer_id):
        level2 = _valid_referrer_id(level1)
        if level2 is not None and level2 not in (buyer_id, level1):
            chain.append((2, level2, "referrer"))
    if len(chain) > MAX_LEVELS:  # unreachable by construction; refuse rather than pay
        raise RuntimeError("a third commission level was about to be paid")
    return [
        Earner(level=level, user_id=uid, source=src, multiplier_bp=_multiplier(uid))
        for level, uid, src in chain
        if distributor_is_qualified(user_id=uid, settings=settings)
    ]


def _raw_amount(line: OrderLine, level: int, settings) -> tuple[int, int | None, int | None]:
    """(amount before multiplier and cap, rate_bp, fixed per unit) for one level."""
    rules = line.product.commission or {}
    fixed = rules.get(f"level{level}_fixed")
    if fixed is not None:
        return int(fixed) * line.qty, None, int(fixed)
    rate = rules.get(f"level{level}_rate_bp")
    if rate is None:
        rate = settings.level1_rate_bp if level == 1 else settings.level2_rate_bp
    return apply_bp(line.paid, int(rate)), int(rate), None


@dataclass
class LineShare:
    earner: Earner
    amount: int
    rate_bp: int | None
    fixed: int | None
    capped: bool = False


def line_commissions(line: OrderLine, earners: Sequence[Earner], settings) -> list[LineShare]:
    """What each earner gets on one line (amounts ≥ 0, capped together)."""
    shares = []
    for earner in earners:
        raw, rate, fixed = _raw_amount(line, earner.level, settings)
        shares.append(LineShare(earner, raw * earner.multiplier_bp // BP, rate, fixed))
    cap = apply_bp(line.paid, settings.max_commission_share_bp)
    if sum(share.amount for share in shares) > cap:
        parts = split_largest_remainder(cap, [share.amount for share in shares])
        for share, part in zip(shares, parts, strict=True):
            share.amount, share.capped = part, True
    return shares


def _risk_hold(order: Order, beneficiary_id: int) -> str:
    """'' when risk control allows the commission, else the reason to hold it."""
    try:
        from quanzi.risk.services import RiskInput, risk_check
    except ImportError:  # pragma: no cover - risk control not installed
        return ""
    decision = risk_check(
        RiskInput(
            kind="commission",
            user_id=order.user_id,
            counterpart_id=beneficiary_id,
            subject=f"order:{order.pk}",
            address=order.address or None,
        )
    )
    return "" if decision.allowed else (decision.reason or decision.action)[:40]


def commissions_create(*, order: Order) -> list[Commission]:
    """At payment: bind through the order's share link if due, then freeze commissions."""
    from quanzi.distribution.binding import referrer_bind_by_share
    from quanzi.social.services import share_order_convert

    settings = get_settings().distribution
    link = share_order_convert(order=order)
    if link is not None:
        buyer = User.objects.get(pk=order.user_id)
        if not referrer_is_valid(buyer):
            # Binding is a relationship, not a payment: any paid order may make it.
            referrer_bind_by_share(user=buyer, sharer_id=link.sharer_id, trigger="order")
    if not order_earns_commission(order, settings):
        return []
    # A buyer with no upline costs one query here: who earns is asked first.
    earners = earners_for(
        order, share_sharer_id=link.sharer_id if link is not None else None, settings=settings
    )
    if not earners:
        return []
    if Commission.objects.filter(order=order).exists():
        return []  # the same payment seen twice
    holds = {earner.user_id: _risk_hold(order, earner.user_id) for earner in earners}
    created = []
    for line in order.lines.select_related("product").order_by("id"):
        for share in line_commissions(line, earners, settings):
            if share.amount <= 0:
                continue
            earner = share.earner
            created.append(
                Commission(
                    order=order,
                    line=line,
                    level=earner.level,
                    beneficiary_id=earner.user_id,
                    buyer_id=order.user_id,
                    source=earner.source,
                    base=line.paid,
                    qty=line.qty,
                    rate_bp=share.rate_bp,
                    fixed=share.fixed,
                    multiplier_bp=earner.multiplier_bp,
                    capped=share.capped,
                    amount=share.amount,
                    held=bool(holds[earner.user_id]),
                    hold_reason=holds[earner.user_id],
                )
            )
    Commission.objects.bulk_create(created)
    log.info(
        "commissions frozen",
        extra={
            "order_id": order.pk,
            "commissions": [(c.level, c.beneficiary_id, c.amount, c.held) for c in created],
        },
    )
    return created


def status_of(commission: Commission) -> str:
    net = commission.net
    if net <= 0:
        return CommissionStatus.REVERSED
    if commission.settled_at is None or commission.held:
        return CommissionStatus.FROZEN
    if commission.withdrawn_amount >= net:
        return CommissionStatus.WITHDRAWN
    return CommissionStatus.AVAILABLE


def _settled_account_leg(commission: Commission, amount: int) -> Leg:
    """A leg on wherever this settled commission's money sits (available or held)."""
    if commission.held:
        return Leg(books.HELD, amount)
    return books.available_leg(commission.beneficiary_id, amount)


def commissions_reverse(*, order: Order, refund) -> int:
    """A refund succeeded: reverse each refunded line's commissions in proportion."""
    line_ids = sorted({part["line_id"] for part in refund.lines})
    if not line_ids:
        return 0
    lines = {line.pk: line for line in OrderLine.objects.filter(pk__in=line_ids)}
    commissions = list(
        Commission.objects.select_for_update().filter(line_id__in=line_ids).order_by("id")
    )
    clawbacks: dict[tuple[bool, int], int] = defaultdict(int)
    legs_for: dict[tuple[bool, int], Commission] = {}
    total = 0
    for commission in commissions:
        target = lines[commission.line_id].share_taken_back(commission.amount)
        delta = target - commission.reversed_amount
        if delta <= 0:
            continue
        settled = commission.settled_at is not None
        CommissionReversal.objects.create(
            commission=commission, refund_id=refund.pk, amount=delta, after_settlement=settled
        )
        commission.reversed_amount = target
        commission.status = status_of(commission)
        commission.save(update_fields=["reversed_amount", "status"])
        total += delta
        if settled:
            key = (commission.held, commission.beneficiary_id)
            clawbacks[key] += delta
            legs_for[key] = commission
    if clawbacks:
        legs = [
            _settled_account_leg(legs_for[key], amount) for key, amount in sorted(clawbacks.items())
        ]
        legs.append(Leg(chart.PLATFORM_REVENUE, -sum(clawbacks.values())))
        entry_post(
            key=f"clawback:{refund.pk}",
            kind="commission_clawback",
            legs=legs,
            order_id=order.pk,
            refund_id=refund.pk,
            memo="commission reversed after settlement",
        )
    _sales_refunded(refund=refund, commissions=commissions)
    if total:
        log.info(
            "commissions reversed",
            extra={"order_id": order.pk, "refund_id": refund.pk, "amount": total},
        )
    return total


def _sales_refunded(*, refund, commissions: list[Commission]) -> None:
    """Settled sales a level-1 earner brought shrink by what the refund took back."""
    parts = {part["line_id"]: part["amount"] for part in refund.lines}
    less: dict[int, int] = defaultdict(int)
    for commission in commissions:
        if commission.level == 1 and commission.settled_at is not None:
            less[commission.beneficiary_id] += parts.get(commission.line_id, 0)
    for user_id, amount in sorted(less.items()):
        if amount:
            DistributorProfile.objects.filter(user_id=user_id).update(sales=F("sales") - amount)


def _unsettled(orders: Sequence[Order]) -> dict[int, list[Commission]]:
    """The orders' commissions not settled yet, locked, by order id (one query)."""
    grouped: dict[int, list[Commission]] = defaultdict(list)
    rows = (
        Commission.objects.select_for_update()
        .filter(order_id__in=[order.pk for order in orders], settled_at__isnull=True)
        .order_by("id")
    )
    for commission in rows:
        grouped[commission.order_id].append(commission)
    return grouped


def settlement_legs_for(orders: Sequence[Order]) -> dict[int, list[Leg]]:
    """The commissions' share of each order at settlement: net of every reversal."""
    unsettled = _unsettled(orders)
    legs: dict[int, list[Leg]] = {}
    for order in orders:
        totals: dict[tuple[bool, int], int] = defaultdict(int)
        for commission in unsettled.get(order.pk, ()):
            if commission.net > 0:
                totals[(commission.held, commission.beneficiary_id)] += commission.net
        legs[order.pk] = [
            Leg(books.HELD, -amount) if held else books.available_leg(user_id, -amount)
            for (held, user_id), amount in sorted(totals.items())
        ]
    return legs


def commissions_settle(*, orders: Sequence[Order]) -> None:
    """The orders settled: frozen commissions become available (held ones wait); the
    level-1 earners' settled sales grow, and their ranks are evaluated."""
    from quanzi.distribution.distributors import profiles_lock
    from quanzi.distribution.ranks import ranks_evaluate

    unsettled = _unsettled(orders)
    commissions: list[Commission] = []
    sales: dict[int, int] = defaultdict(int)
    for order in orders:
        now = order.settled_at or timezone.now()
        lines = {line.pk: line for line in order.lines.all()}
        for commission in unsettled.get(order.pk, ()):
            commission.settled_at = now
            commission.settled_amount = commission.net
            commission.status = status_of(commission)
            commissions.append(commission)
            if commission.level == 1:
                line = lines[commission.line_id]
                sales[commission.beneficiary_id] += line.paid - line.refunded_amount
    rows_update(
        Commission,
        fields=["settled_at", "settled_amount", "status"],
        rows=[(c.pk, c.settled_at, c.settled_amount, c.status) for c in commissions],
    )
    if not sales:
        return
    profiles = profiles_lock(user_ids=sales)
    for user_id, profile in profiles.items():
        profile.sales += sales[user_id]
    rows_update(
        DistributorProfile,
        key="user_id",
        fields=["sales"],
        add=["sales"],
        rows=sorted(sales.items()),
    )
    ranks_evaluate(list(profiles.values()))


class DistributionObserver(OrderObserver):
    """Plugs distribution into every order (registered in ``DistributionConfig.ready``)."""

    def on_paid(self, order: Order) -> None:
        commissions_create(order=order)

    def on_refund_succeeded(self, order: Order, refund) -> None:
        commissions_reverse(order=order, refund=refund)

    def settlement_legs_many(self, orders, net_lines) -> dict[int, list[Leg]]:
        return settlement_legs_for(orders)

    def on_settled_many(self, orders: Sequence[Order]) -> None:
        commissions_settle(orders=orders)
