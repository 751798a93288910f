"""A population of shoppers over days (``quanzi simulate --days N --users M --seed S``).

Where the fault simulation throws random operations and faults at a few customers, this
one lets ``users`` people live ``days`` days in the shop, ending today, so that the
analytics have weeks of history: each day some of them visit (product views and
add-to-carts recorded as traffic, some through a friend's share link), buy normally or
through a share link, open and join groups, start and help bargains, buy memberships,
order the day's community wave for pickup at a leader's point (collected the next day with
the pickup code), open creators' notes and buy what they tag (``channels.py``), claim
coupons and sign in; orders are paid, shipped, confirmed, a few refunded; every
sweep runs at the end of each day (settlement, group expiry…). Everything goes through
the apps' own services and the one order pipeline, with the simulated clock installed, so
the ledger stays balanced. Then the daily facts are built for the whole range.

With ``abuse_farms`` > 0 the seeded abuse of ``abuse.py`` (labelled account farms,
self-dealing, bursts, rings, refund abusers, re-registrations) is replayed on top and the
risk rules are measured against the labels.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from quanzi.core.errors import QuanziError

# Daily activity: the operations a visiting person may do, with their weights.
WEIGHTS = {
    "place_normal": 10,
    "place_shared": 6,
    "group_open": 4,
    "group_join": 7,
    "bargain_start": 2,
    "bargain_help": 6,
    "bargain_buy": 2,
    "membership_buy": 1,
    "coupon_claim": 3,
    "sign_in": 4,
    "community_order": 5,
    "note_read": 4,
}
CHANNEL_OF = {
    "place_normal": "direct",
    "place_shared": "share",
    "group_open": "group",
    "group_join": "group",
    "bargain_start": "bargain",
    "bargain_help": "bargain",
    "bargain_buy": "bargain",
    "membership_buy": "membership",
    "community_order": "community",
    "note_read": "content",
}


@dataclass
class PopulationReport:
    seed: int
    days: int
    users: int
    ops: Counter = field(default_factory=Counter)
    orders: int = 0
    paid: int = 0
    gmv: int = 0
    refunds: int = 0
    views: int = 0
    carts: int = 0
    fact_rows: int = 0
    ledger_problems: list[str] = field(default_factory=list)
    risk: object | None = None
    seconds: float = 0.0


def _place_shared(w) -> str:
    """A friend shares a product; the visitor buys through the link."""
    from quanzi.catalog.models import SKU as Sku
    from quanzi.orders.services import order_place
    from quanzi.simulation.ops import _maybe_pay_now
    from quanzi.social.services import share_create, share_open

    sharer, buyer = w.rng.sample(w.customers, 2)
    sku_id = w.rng.choice(w.skus)
    product_id = Sku.objects.filter(pk=sku_id).values_list("product_id", flat=True).first()
    link = share_create(sharer=sharer, target="product", target_id=product_id, channel="wechat")
    share_open(token=link.token, visitor=buyer)
    order = order_place(
        user=buyer,
        items=[{"sku_id": sku_id, "qty": 1}],
        address_id=w.addresses[buyer.pk],
        share_token=link.token,
    )
    return "placed:" + _maybe_pay_now(w, order)


def _traffic(w, day_start: datetime, visitors: list, report: PopulationReport) -> None:
    """Views and add-to-carts of the day's visitors, as the storefront records them."""
    from quanzi.analytics.models import TrafficEvent
    from quanzi.catalog.models import SKU as Sku

    products = list(
        Sku.objects.filter(pk__in=w.skus).values_list("product_id", flat=True).distinct()
    )
    rows = []
    for user in visitors:
        channel = w.rng.choices(["direct", "share", "group", "bargain"], weights=[6, 3, 2, 1])[0]
        for _ in range(w.rng.randint(1, 5)):
            at = day_start + timedelta(minutes=w.rng.randint(8 * 60, 23 * 60))
            product = w.rng.choice(products)
            rows.append(
                TrafficEvent(
                    kind="view",
                    visitor=f"u:{user.pk}",
                    user_id=user.pk,
                    product_id=product,
                    channel=channel,
                    created_at=at,
                )
            )
            if w.rng.random() < 0.3:
                rows.append(
                    TrafficEvent(
                        kind="cart",
                        visitor=f"u:{user.pk}",
                        user_id=user.pk,
                        product_id=product,
                        channel=channel,
                        created_at=at + timedelta(minutes=1),
                    )
                )
    # Anonymous visitors who only look.
    for n in range(len(visitors) // 2):
        at = day_start + timedelta(minutes=w.rng.randint(8 * 60, 23 * 60))
        rows.append(
            TrafficEvent(
                kind="view",
                visitor=f"s:{day_start:%m%d}-{n}",
                product_id=w.rng.choice(products),
                channel="direct",
                created_at=at,
            )
        )
    TrafficEvent.objects.bulk_create(rows)
    report.views += sum(1 for r in rows if r.kind == "view")
    report.carts += sum(1 for r in rows if r.kind == "cart")


def _end_of_day(w) -> None:
    """Notifications arrive, the warehouse ships, people confirm, refunds are decided,
    and every sweep runs."""
    from quanzi.core.jobs import discover, run_sweep
    from quanzi.orders.models import Order, Refund, RefundStatus
    from quanzi.orders.models import Status as S
    from quanzi.orders.refunds import refund_approve, refund_request
    from quanzi.orders.services import order_confirm_receipt, order_ship
    from quanzi.payments.services import notification_handle

    for held in list(w.held):
        try:
            notification_handle(gateway="sandbox", headers=held.headers, body=held.body)
        except QuanziError:
            pass
    w.held.clear()
    for order in Order.objects.filter(status=S.TO_SHIP).exclude(channel="membership"):
        if w.rng.random() < 0.8:
            _safe(order_ship, order_id=order.pk, carrier="SF", tracking_no=f"SF{order.pk:09d}")
    for order in Order.objects.filter(status__in=[S.SHIPPED, S.DELIVERED]):
        if w.rng.random() < 0.5:
            _safe(order_confirm_receipt, order_id=order.pk, user=w.user(order.user_id))
    paid_today = Order.objects.filter(
        paid_at__gte=timezone.now() - timedelta(days=1), settled_at__isnull=True
    ).exclude(status__in=[S.REFUNDED, S.CANCELLED])
    for order in paid_today:
        if w.rng.random() < 0.05:
            _safe(
                refund_request,
                order_id=order.pk,
                user=w.user(order.user_id),
                lines=None,
                reason="不想要了",
            )
    for refund in Refund.objects.filter(status=RefundStatus.REQUESTED):
        _safe(refund_approve, refund_id=refund.pk, operator=w.operator)
    jobs = discover()
    for name in sorted(jobs):
        try:
            run_sweep(jobs[name])
        except QuanziError:
            pass


def _community_morning(w, ch, day_start: datetime) -> None:
    """Yesterday's wave closes and is aggregated, its goods arrive and are collected; the
    operator opens today's wave."""
    from quanzi.community.sweeps import waves_aggregate_due, waves_close_due
    from quanzi.simulation.channels import pickups_run, wave_open

    waves_close_due()
    waves_aggregate_due()
    pickups_run(w, ch)
    try:
        with transaction.atomic():
            wave_open(w, ch, day_start)
    except QuanziError:
        ch.wave_id = None


def _safe(func, **kwargs):
    try:
        with transaction.atomic():
            return func(**kwargs)
    except QuanziError:
        return None


def populate(
    *,
    days: int,
    users: int,
    seed: int = 1,
    activity: float = 0.3,
    abuse_farms: int = 0,
    end: datetime | None = None,
) -> PopulationReport:
    """Live ``days`` days of ``users`` people in the current database, ending at ``end``
    (now); build the facts; measure risk on seeded abuse when ``abuse_farms`` > 0."""
    from quanzi.analytics.facts import facts_backfill, local_day
    from quanzi.ledger.checks import run_checks
    from quanzi.orders.models import Order, Refund, RefundStatus
    from quanzi.simulation.channels import (
        channels_build,
        community_order,
        note_read,
    )
    from quanzi.simulation.clock import SimClock
    from quanzi.simulation.ops import OPS
    from quanzi.simulation.world import world_build

    started = time.monotonic()
    report = PopulationReport(seed=seed, days=days, users=users)
    real_end = end or timezone.now()
    first = timezone.localtime(real_end - timedelta(days=days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    clock = SimClock(start=first + timedelta(hours=7))
    names = sorted(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    placed_before = Order.objects.count()
    with clock.installed():
        with transaction.atomic():
            world = world_build(
                seed=seed, clock=clock, customers=users, stock_scale=max(1, users * days // 40)
            )
            ch = channels_build(world)
        for day in range(days):
            day_start = first + timedelta(days=day)
            _community_morning(world, ch, day_start)
            visitors = world.rng.sample(world.customers, max(2, int(users * activity)))
            _traffic(world, day_start, visitors, report)
            per_hour = max(1, len(visitors) // 14)
            for hour in range(8, 22):
                target = day_start + timedelta(hours=hour, minutes=world.rng.randint(0, 50))
                if target > clock.now():
                    clock.advance((target - clock.now()).total_seconds())
                for _ in range(per_hour):
                    name = world.rng.choices(names, weights=weights)[0]
                    report.ops[name] += 1
                    # A refusal rolls the whole step back, payments included: the
                    # notifications it made are forgotten with them.
                    held, delivered = len(world.held), len(world.delivered)
                    try:
                        with transaction.atomic():
                            if name == "place_shared":
                                _place_shared(world)
                            elif name == "community_order":
                                community_order(world, ch)
                            elif name == "note_read":
                                note_read(world, ch)
                            else:
                                OPS[name].run(world)
                            if world.rng.random() < 0.6:
                                OPS["pay"].run(world)
                    except QuanziError:
                        report.ops[f"{name}:refused"] += 1
                        del world.held[held:], world.delivered[delivered:]
                    clock.advance(world.rng.randint(30, 240))
            _end_of_day(world)
            end_of_day = day_start + timedelta(days=1, minutes=5)
            if end_of_day > clock.now():
                clock.advance((end_of_day - clock.now()).total_seconds())
    facts_backfill(start=local_day(first), end=local_day(real_end))
    from quanzi.analytics.models import DailyFact

    report.fact_rows = DailyFact.objects.count()
    new = Order.objects.order_by("id")[placed_before:]
    report.orders = len(new)
    paid = [o for o in new if o.paid_at is not None]
    report.paid = len(paid)
    report.gmv = sum(o.payable for o in paid)
    report.refunds = Refund.objects.filter(status=RefundStatus.SUCCEEDED).count()
    problems, _stats = run_checks()
    report.ledger_problems = list(problems)
    if abuse_farms:
        from quanzi.simulation.abuse import evaluate

        report.risk = evaluate(seed=seed, honest=max(30, users // 2), farms=abuse_farms)
    report.seconds = time.monotonic() - started
    return report


def population_format(report: PopulationReport) -> str:
    lines = [
        f"population, seed {report.seed}: {report.users} people over {report.days} days "
        f"in {report.seconds:.1f} s",
        f"  traffic: {report.views} views, {report.carts} add-to-carts",
        f"  orders: {report.orders} placed, {report.paid} paid, GMV {report.gmv / 100:.2f} yuan, "
        f"{report.refunds} refunds",
        f"  daily fact rows: {report.fact_rows}",
        "  activity: "
        + ", ".join(f"{k} {v}" for k, v in sorted(report.ops.items()) if ":" not in k),
        "  ledger: "
        + ("ok" if not report.ledger_problems else f"{len(report.ledger_problems)} problem(s)"),
    ]
    if report.risk is not None:
        from quanzi.simulation.abuse import evaluation_format

        lines.append(evaluation_format(report.risk, seed=report.seed))
    return "\n".join(lines)
