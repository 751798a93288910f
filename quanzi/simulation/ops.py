"""The operations the simulation draws from, each through the apps' services (never HTTP).

An operation picks its actors and objects with the world's generator and returns a short
outcome (``"placed"``, ``"skip"`` when nothing fits…). A business refusal (a
``QuanziError``: out of stock, window closed…) is a normal answer, counted as
``refused:<code>``; any other exception is a failure of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q

from quanzi.orders.models import Order, OrderLine, Refund, RefundStatus
from quanzi.orders.models import Status as S
from quanzi.simulation.faults import KILL_POINTS, killed
from quanzi.simulation.world import HeldNotification, World

AFTER_PAYMENT = [S.PAID, S.GROUPING, S.TO_SHIP, S.SHIPPED, S.DELIVERED, S.COMPLETED]


@dataclass(frozen=True)
class Op:
    name: str
    weight: int
    run: Callable[[World], str]


OPS: dict[str, Op] = {}


def op(name: str, weight: int):
    def register(func: Callable[[World], str]) -> Callable[[World], str]:
        OPS[name] = Op(name, weight, func)
        return func

    return register


# --- placing ---------------------------------------------------------------------------


def _maybe_pay_now(w: World, order: Order) -> str:
    if order.status == S.PENDING_PAYMENT and w.rng.random() < 0.5:
        return _pay(w, order)
    return order.status


def _discounts(w: World, user) -> dict:
    from quanzi.marketing.models import Coupon, CouponStatus
    from quanzi.marketing.points import points_balance

    extra: dict = {}
    if w.rng.random() < 0.35:
        coupon = w.pick(Coupon.objects.filter(user=user, status=CouponStatus.UNUSED))
        if coupon is not None:
            extra["coupon_id"] = coupon.pk
    if w.rng.random() < 0.35:
        balance = points_balance(user_id=user.pk)
        if balance > 0:
            extra["points"] = w.rng.randint(1, balance)
    return extra


@op("place_normal", 14)
def place_normal(w: World) -> str:
    from quanzi.orders.services import order_place

    user = w.customer()
    skus = w.rng.sample(w.skus, w.rng.choice([1, 1, 2]))
    order = order_place(
        user=user,
        items=[{"sku_id": sku, "qty": w.rng.choice([1, 1, 2, 3])} for sku in skus],
        address_id=w.addresses[user.pk],
        **_discounts(w, user),
    )
    return "placed:" + _maybe_pay_now(w, order)


@op("group_open", 5)
def group_open(w: World) -> str:
    from quanzi.groupbuy.services import group_open as open_

    user = w.customer()
    order = open_(
        user=user,
        campaign_id=w.group_campaign_id,
        sku_id=w.group_sku_id,
        qty=w.rng.choice([1, 1, 2]),
        address_id=w.addresses[user.pk],
    )
    return "opened:" + _maybe_pay_now(w, order)


@op("group_join", 8)
def group_join(w: World) -> str:
    from quanzi.groupbuy.models import Group, GroupStatus
    from quanzi.groupbuy.services import group_join as join

    group = w.pick_live(Group.objects.filter(status=GroupStatus.FORMING))
    if group is None:
        return "skip"
    user = w.customer()
    order = join(
        user=user,
        group_id=group.pk,
        sku_id=w.group_sku_id,
        qty=1,
        address_id=w.addresses[user.pk],
    )
    return "joined:" + _maybe_pay_now(w, order)


@op("bargain_start", 3)
def bargain_start(w: World) -> str:
    from quanzi.bargain.services import bargain_start as start

    start(user=w.customer(), campaign_id=w.bargain_campaign_id)
    return "started"


@op("bargain_help", 7)
def bargain_help(w: World) -> str:
    from quanzi.bargain.models import Bargain, BargainStatus
    from quanzi.bargain.services import bargain_help as help_

    bargain = w.pick_live(Bargain.objects.filter(status=BargainStatus.OPEN))
    if bargain is None:
        return "skip"
    helper = w.customer()
    help_(bargain_id=bargain.pk, helper=helper)
    return "helped"


@op("bargain_buy", 3)
def bargain_buy(w: World) -> str:
    from quanzi.bargain.models import Bargain, BargainStatus
    from quanzi.bargain.services import bargain_buy as buy

    bargain = w.pick_live(
        Bargain.objects.filter(status__in=[BargainStatus.OPEN, BargainStatus.FLOOR_REACHED])
    )
    if bargain is None:
        return "skip"
    owner = w.user(bargain.user_id)
    order = buy(bargain_id=bargain.pk, user=owner, address_id=w.addresses[owner.pk])
    return "bought:" + _maybe_pay_now(w, order)


@op("membership_buy", 2)
def membership_buy(w: World) -> str:
    from quanzi.membership.services import plan_buy

    order = plan_buy(user=w.customer(), plan_id=w.plan_id)
    return "placed:" + _maybe_pay_now(w, order)


# --- paying and the gateway's notifications ---------------------------------------------


def _pay(w: World, order: Order) -> str:
    """Pay ``order`` at the gateway; the notification arrives now, later, or never."""
    from quanzi.payments.gateways import get_gateway
    from quanzi.payments.services import payment_capture, payment_create

    user = w.user(order.user_id)
    payment = payment_create(order_id=order.pk, user=user, gateway="sandbox")
    gw = get_gateway("sandbox")
    charged = gw.charge_reference(out_trade_no=payment.out_trade_no)
    if charged is None:
        gw.check_payable(params=payment.params)  # the gateway refuses after the deadline
    # Paid already (the notification is late): the gateway sends that charge's notification.
    built = gw.build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=charged
    )
    headers, body = built["headers"], built["body"].encode()
    note = gw.parse_notification(headers=headers, body=body)
    gw.record_charge(out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id=note.txn_id)
    fate = w.rng.choices(["now", "held", "lost"], weights=[80, 14, 6])[0]
    if fate == "now":
        payment_capture(gateway="sandbox", note=note)
        w.delivered.append((headers, body))
        return "paid"
    w.held.append(HeldNotification(headers=headers, body=body, lost=fate == "lost"))
    w.faults[f"notification_{fate}"] += 1
    return f"paid:{fate}"


@op("pay", 14)
def pay(w: World) -> str:
    order = w.pick_live(Order.objects.filter(status=S.PENDING_PAYMENT))
    if order is None:
        return "skip"
    return _pay(w, order)


def _deliver(w: World, headers, body) -> str:
    from quanzi.payments.gateways.base import InvalidNotification
    from quanzi.payments.services import notification_handle

    try:
        payment = notification_handle(gateway="sandbox", headers=headers, body=body)
    except InvalidNotification as exc:
        return f"refused:{exc}"
    return "applied" if payment.applied else "unapplied"


@op("notify_late", 6)
def notify_late(w: World) -> str:
    """Deliver a held notification, in any order (reordered with the others)."""
    waiting = [i for i, held in enumerate(w.held) if not held.lost]
    if not waiting:
        return "skip"
    index = w.rng.choice(waiting)
    if index != waiting[0]:
        w.faults["notification_reordered"] += 1
    held = w.held.pop(index)
    w.delivered.append((held.headers, held.body))
    return "late:" + _deliver(w, held.headers, held.body)


@op("notify_duplicate", 4)
def notify_duplicate(w: World) -> str:
    if not w.delivered:
        return "skip"
    headers, body = w.rng.choice(w.delivered)
    w.faults["notification_duplicate"] += 1
    return "duplicate:" + _deliver(w, headers, body)


@op("cancel", 4)
def cancel(w: World) -> str:
    from quanzi.orders.services import order_cancel

    order = w.pick(Order.objects.filter(status=S.PENDING_PAYMENT))
    if order is None:
        return "skip"
    order_cancel(order_id=order.pk, actor=w.user(order.user_id))
    return "cancelled"


# --- after payment ------------------------------------------------------------------------


@op("ship", 8)
def ship(w: World) -> str:
    from quanzi.orders.services import order_ship

    order = w.pick(Order.objects.filter(status=S.TO_SHIP).exclude(channel="membership"))
    if order is None:
        return "skip"
    order_ship(order_id=order.pk, carrier="SF", tracking_no=f"SF{w.rng.randrange(10**9)}")
    return "shipped"


@op("confirm", 5)
def confirm(w: World) -> str:
    from quanzi.orders.services import order_confirm_receipt

    order = w.pick(Order.objects.filter(status__in=[S.SHIPPED, S.DELIVERED]))
    if order is None:
        return "skip"
    order_confirm_receipt(order_id=order.pk, user=w.user(order.user_id))
    return "confirmed"


def _refund_lines(w: World, order: Order) -> list[dict] | None:
    """Everything (None) or a random part of one line."""
    if w.rng.random() < 0.5:
        return None
    lines = list(OrderLine.objects.filter(order=order, qty__gt=F("refunded_qty")).order_by("id"))
    if not lines:
        return None
    line = w.rng.choice(lines)
    return [{"line_id": line.pk, "qty": w.rng.randint(1, line.qty - line.refunded_qty)}]


@op("refund_request", 5)
def refund_request(w: World) -> str:
    from quanzi.orders.refunds import refund_request as request

    order = w.pick(Order.objects.filter(status__in=AFTER_PAYMENT, settled_at__isnull=True))
    if order is None:
        return "skip"
    lines = _refund_lines(w, order)
    request(order_id=order.pk, user=w.user(order.user_id), lines=lines, reason="simulated")
    return "requested:" + ("full" if lines is None else "partial")


@op("refund_decide", 5)
def refund_decide(w: World) -> str:
    from quanzi.orders.refunds import refund_approve, refund_reject

    refund = w.pick(Refund.objects.filter(status=RefundStatus.REQUESTED))
    if refund is None:
        return "skip"
    if w.rng.random() < 0.75:
        refund_approve(refund_id=refund.pk, operator=w.operator)
        return "approved"
    refund_reject(refund_id=refund.pk, operator=w.operator, reason="simulated")
    return "rejected"


@op("refund_operator", 3)
def refund_operator(w: World) -> str:
    """The operator refunds, also after settlement (commissions are clawed back)."""
    from quanzi.orders.refunds import refund_operator_create

    settled = w.rng.random() < 0.5
    order = w.pick(Order.objects.filter(status__in=AFTER_PAYMENT, settled_at__isnull=not settled))
    if order is None:
        return "skip"
    lines = _refund_lines(w, order)
    refund_operator_create(order_id=order.pk, lines=lines, reason="simulated", operator=w.operator)
    return ("after_settlement:" if settled else "before_settlement:") + (
        "full" if lines is None else "partial"
    )


# --- marketing ----------------------------------------------------------------------------


@op("coupon_claim", 4)
def coupon_claim(w: World) -> str:
    from quanzi.marketing.services import coupon_claim as claim

    claim(user=w.customer(), template_id=w.rng.choice(w.coupon_template_ids))
    return "claimed"


@op("sign_in", 4)
def sign_in(w: World) -> str:
    from quanzi.marketing.services import sign_in as sign

    sign(user=w.customer())
    return "signed_in"


@op("lottery_draw", 5)
def lottery_draw(w: World) -> str:
    from quanzi.rewards.lottery import lottery_draw as draw

    result = draw(user=w.customer(), lottery_id=w.lottery_id)
    return f"drew:{result.kind or 'none'}"


@op("lottery_claim", 3)
def lottery_claim(w: World) -> str:
    from quanzi.rewards.lottery import lottery_claim as claim
    from quanzi.rewards.models import DrawStatus, LotteryDraw

    # Mostly a prize waiting for its claim; sometimes one claimed already (a double tap).
    statuses = [DrawStatus.UNCLAIMED] if w.rng.random() < 0.8 else [DrawStatus.CLAIMED]
    draw = w.pick(LotteryDraw.objects.filter(lottery_id=w.lottery_id, status__in=statuses))
    if draw is None:
        return "skip"
    winner = w.user(draw.user_id)
    claim(draw_id=draw.pk, user=winner, address_id=w.addresses[winner.pk])
    return "claimed"


# --- distribution ---------------------------------------------------------------------


@op("withdraw", 4)
def withdraw(w: World) -> str:
    from quanzi.distribution.selectors import earnings_of
    from quanzi.distribution.withdrawals import withdrawal_request

    rich = [u for u in w.customers if earnings_of(user=u)["available"] >= 100]
    if not rich:
        return "skip"
    user = w.rng.choice(rich)
    available = earnings_of(user=user)["available"]
    amount = available if w.rng.random() < 0.3 else w.rng.randint(100, available)
    withdrawal = withdrawal_request(user=user, amount=amount)
    return f"requested:{withdrawal.status}"


@op("withdrawal_decide", 3)
def withdrawal_decide(w: World) -> str:
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.distribution.withdrawals import withdrawal_approve, withdrawal_reject

    waiting = Q(status=WithdrawalStatus.REQUESTED) | Q(
        status=WithdrawalStatus.APPROVED, attempts__gt=0
    )
    withdrawal = w.pick(Withdrawal.objects.filter(waiting))
    if withdrawal is None:
        return "skip"
    if withdrawal.status == WithdrawalStatus.REQUESTED and w.rng.random() < 0.7:
        withdrawal_approve(withdrawal_id=withdrawal.pk, operator=w.operator)
        return "approved"
    withdrawal_reject(withdrawal_id=withdrawal.pk, operator=w.operator, reason="simulated")
    return "rejected"


@op("payout", 3)
def payout(w: World) -> str:
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.distribution.withdrawals import withdrawal_payout

    withdrawal = w.pick(
        Withdrawal.objects.filter(
            status__in=[WithdrawalStatus.APPROVED, WithdrawalStatus.PROCESSING]
        )
    )
    if withdrawal is None:
        return "skip"
    return "payout:" + withdrawal_payout(withdrawal_id=withdrawal.pk).status


# --- time, sweeps and killed workers -----------------------------------------------------


@op("sweep", 10)
def sweep(w: World) -> str:
    from quanzi.core.jobs import discover, run_sweep

    jobs = discover()
    name = w.rng.choice(sorted(jobs))
    run_sweep(jobs[name])
    return f"ran:{name}"


@op("sweep_killed", 4)
def sweep_killed(w: World) -> str:
    """A worker dies between two steps of a sweep; maybe it is rerun at once."""
    from quanzi.core.jobs import discover, run_sweep
    from quanzi.simulation.faults import WorkerKilled

    jobs = discover()
    # Up to three sweeps in a row, until one has enough work to be killed in it.
    for name in w.rng.sample(sorted(KILL_POINTS), 3):
        at_call = w.rng.choice([1, 1, 2, 3])
        when = w.rng.choice(["before", "after"])
        with killed(KILL_POINTS[name], at_call=at_call, when=when):
            try:
                run_sweep(jobs[name])
            except WorkerKilled:
                w.faults[f"sweep_killed:{name}"] += 1
                outcome = "killed"
                break
        outcome = "survived"
    if outcome == "killed" and w.rng.random() < 0.5:
        run_sweep(jobs[name])
        outcome = "killed:rerun"
    return f"{outcome}:{name}"


@op("time_passes", 3)
def time_passes(w: World) -> str:
    w.clock.advance(w.rng.choice([3600, 6 * 3600, 86_400]))
    return "advanced"


def op_names() -> list[str]:
    return sorted(OPS)
