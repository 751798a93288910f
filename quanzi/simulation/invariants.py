"""What must hold after every step of a run, and once more when the shop has settled down.

After every step: ``quanzi ledger check`` (the ledger's invariants and every app's,
stock conservation per SKU among them) plus the run's own, which compare Quanzi's books
with the gateway's (the sandbox keeps its own record of what it charged, refunded and
paid out) and count the things that must happen at most once:

* no group slot sold twice: a group's paid places (plus the platform's simulated ones)
  never exceed its size, and its held places never either;
* no prize given twice: a prize's winners plus what is left never exceed its stock at
  the start, and a won product is claimed by one live order at most;
* no commission twice: one record per order line and level;
* money the gateway moved is booked once: every refund or payout the gateway made
  belongs to a refund or withdrawal that is paid or still being retried, never to one
  that was turned down (paid twice: once by the gateway, once back to the balance), and
  every paid refund or withdrawal is one gateway movement of exactly its amount.

At the end (``settled_checks``), with every window passed and the sweeps run: nothing is
left half-done. Every charge the gateway took is captured, every refund and withdrawal
approved is paid, no order waits for payment, no group is still forming.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q

from quanzi.simulation.world import World


def _groups() -> Iterator[str]:
    from quanzi.groupbuy.models import Group, GroupMember, MemberStatus

    paid = dict(
        GroupMember.objects.filter(status=MemberStatus.PAID)
        .values_list("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    held = dict(
        GroupMember.objects.filter(status__in=[MemberStatus.PAID, MemberStatus.RESERVED])
        .values_list("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    for group in Group.objects.only("id", "size", "simulated_members", "status"):
        sold = paid.get(group.pk, 0) + group.simulated_members
        if sold > group.size:
            yield f"group {group.pk} sold {sold} places of {group.size}"
        if held.get(group.pk, 0) > group.size:
            yield f"group {group.pk} holds {held[group.pk]} places of {group.size}"
    twice = (
        GroupMember.objects.filter(status__in=[MemberStatus.PAID, MemberStatus.RESERVED])
        .values("group_id", "user_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in twice[:5]:
        yield f"user {row['user_id']} holds {row['n']} places in group {row['group_id']}"


def _prizes(world: World) -> Iterator[str]:
    from quanzi.orders.models import Order
    from quanzi.orders.models import Status as S
    from quanzi.rewards.models import DrawStatus, LotteryDraw, LotteryPrize

    won = dict(
        LotteryDraw.objects.exclude(status=DrawStatus.LOST)
        .filter(prize__isnull=False)
        .values_list("prize_id")
        .annotate(n=Count("id"))
        .values_list("prize_id", "n")
    )
    for prize in LotteryPrize.objects.filter(pk__in=list(world.prize_stock)):
        start = world.prize_stock[prize.pk]
        if start is None or prize.stock is None:
            continue
        if prize.kind == "product":
            # A product prize refunded before shipping goes back into the pool.
            continue
        if won.get(prize.pk, 0) + prize.stock > start:
            yield f"prize {prize.pk}: {won.get(prize.pk, 0)} won + {prize.stock} left > {start}"
    claims = (
        Order.objects.filter(channel="lottery")
        .exclude(status=S.CANCELLED)
        .values("channel_ref")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in claims[:5]:
        yield f"lottery draw {row['channel_ref']} claimed by {row['n']} orders"
    product_prizes = LotteryPrize.objects.filter(pk__in=list(world.prize_stock), kind="product")
    for prize in product_prizes:
        start = world.prize_stock[prize.pk] or 0
        shipped_or_held = (
            Order.objects.filter(channel="lottery", lines__sku_id=prize.sku_id)
            .exclude(status__in=[S.CANCELLED, S.REFUNDED])
            .count()
        )
        waiting = LotteryDraw.objects.filter(prize=prize, status=DrawStatus.UNCLAIMED).count()
        if shipped_or_held + waiting + prize.stock > start:
            yield (
                f"product prize {prize.pk}: {shipped_or_held} claimed + {waiting} waiting"
                f" + {prize.stock} left > {start}"
            )


def _commissions() -> Iterator[str]:
    from quanzi.distribution.models import Commission

    twice = Commission.objects.values("line_id", "level").annotate(n=Count("id")).filter(n__gt=1)
    for row in twice[:5]:
        yield f"line {row['line_id']} has {row['n']} level-{row['level']} commissions"


def _gateway_books() -> Iterator[str]:
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.orders.models import Refund, RefundStatus
    from quanzi.payments.models import Payment, SandboxRecord

    gateway_refunds = dict(
        SandboxRecord.objects.filter(kind="refund").values_list("number", "amount")
    )
    refunds = {r.refund_no: r for r in Refund.objects.filter(refund_no__in=list(gateway_refunds))}
    for number, amount in gateway_refunds.items():
        refund = refunds.get(number)
        if refund is None:
            yield f"the gateway refunded {amount} under {number}, which no refund has"
        elif refund.status == RefundStatus.REJECTED:
            yield f"refund {refund.pk} was rejected, but the gateway paid it"
        elif refund.amount != amount:
            yield f"refund {refund.pk} of {refund.amount} was paid {amount} by the gateway"
    for refund in Refund.objects.filter(
        status=RefundStatus.SUCCEEDED, amount__gt=0, payment__isnull=False, offline_reference=""
    ).only("id", "refund_no"):
        if refund.refund_no not in gateway_refunds:
            yield f"refund {refund.pk} is booked as paid, but the gateway never paid it"

    payouts = dict(SandboxRecord.objects.filter(kind="payout").values_list("number", "amount"))
    withdrawals = {
        w.payout.payout_no: w
        for w in Withdrawal.objects.filter(payout__isnull=False).select_related("payout")
    }
    for number, amount in payouts.items():
        withdrawal = withdrawals.get(number)
        if withdrawal is None:
            yield f"the gateway paid out {amount} under {number}, which no withdrawal has"
        elif withdrawal.status == WithdrawalStatus.REJECTED:
            yield f"withdrawal {withdrawal.pk} was rejected, but the gateway paid it out"
        elif withdrawal.amount - withdrawal.fee != amount:
            yield f"withdrawal {withdrawal.pk} nets {withdrawal.amount - withdrawal.fee}, paid {amount}"
    for withdrawal in withdrawals.values():
        if (
            withdrawal.status == WithdrawalStatus.PAID
            and withdrawal.payout.payout_no not in payouts
        ):
            yield f"withdrawal {withdrawal.pk} is booked as paid, but the gateway never paid it"

    charges = dict(SandboxRecord.objects.filter(kind="charge").values_list("number", "amount"))
    for payment in Payment.objects.filter(status=Payment.SUCCEEDED).only(
        "id", "out_trade_no", "amount"
    ):
        if charges.get(payment.out_trade_no) != payment.amount:
            yield f"payment {payment.pk} is captured, but the gateway charged {charges.get(payment.out_trade_no)}"


def _ledger() -> Iterator[str]:
    from quanzi.ledger.checks import run_checks

    problems, _ = run_checks()
    yield from problems


CHECKS = {
    "ledger check (ledger, orders, stock, payments, groups, marketing, distribution…)": lambda w: (
        _ledger()
    ),
    "no group slot sold twice": lambda w: _groups(),
    "no prize given twice": _prizes,
    "no commission twice": lambda w: _commissions(),
    "gateway and books agree": lambda w: _gateway_books(),
}


def check_all(world: World) -> list[str]:
    problems = []
    for name, check in CHECKS.items():
        problems.extend(f"[{name}] {problem}" for problem in check(world))
    return problems


def settled_checks(world: World) -> list[str]:
    """Liveness once every window has passed and the sweeps ran: nothing left behind."""
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.groupbuy.models import Group, GroupStatus
    from quanzi.orders.models import Order, Refund, RefundStatus
    from quanzi.orders.models import Status as S
    from quanzi.payments.models import Payment, SandboxRecord

    problems = []
    charged = set(SandboxRecord.objects.filter(kind="charge").values_list("number", flat=True))
    captured = set(
        Payment.objects.filter(status=Payment.SUCCEEDED).values_list("out_trade_no", flat=True)
    )
    for number in sorted(charged - captured)[:10]:
        problems.append(f"[nothing lost] the gateway charged {number}, never captured")
    open_refunds = Refund.objects.filter(
        status__in=[RefundStatus.APPROVED, RefundStatus.PROCESSING]
    )
    for refund in open_refunds[:10]:
        problems.append(f"[nothing lost] refund {refund.pk} is still {refund.status}")
    for withdrawal in Withdrawal.objects.filter(
        status__in=[WithdrawalStatus.APPROVED, WithdrawalStatus.PROCESSING]
    )[:10]:
        problems.append(f"[nothing lost] withdrawal {withdrawal.pk} is still {withdrawal.status}")
    for order in Order.objects.filter(status=S.PENDING_PAYMENT)[:10]:
        problems.append(f"[nothing lost] order {order.pk} still waits for payment")
    for group in Group.objects.filter(status=GroupStatus.FORMING)[:10]:
        problems.append(f"[nothing lost] group {group.pk} is still forming")
    owed = Order.objects.filter(
        Q(status__in=[S.PAID, S.GROUPING]) & Q(group_member__group__status=GroupStatus.FAILED)
    )
    for order in owed[:10]:
        problems.append(f"[nothing lost] order {order.pk} of a failed group is not refunded")
    unsettled = Order.objects.filter(
        status=S.COMPLETED, settled_at__isnull=True, after_sales_ends_at__lte=world.clock.now()
    )
    for order in unsettled[:10]:
        problems.append(f"[nothing lost] order {order.pk} is due for settlement, not settled")
    return problems + check_all(world)
