"""Building the daily facts: one day at a time, from the orders, refunds and traffic.

``facts_build_day`` replaces a day's rows in one transaction, so building a day twice
changes nothing (idempotent) and a crash leaves the previous build. ``facts_refresh`` is
the job: it builds every day that is not closed yet, up to today. A day is closed once it
was built after its end plus a grace period; everything counted on a day is stamped with
a time in that day (placed, paid, refund succeeded, viewed), so a closed day no longer
changes. ``analytics_backfill`` rebuilds any range by hand.

Definitions (per day, channel and dimension):
* visitors: distinct people who viewed, carted, placed or paid (so buyers ≤ visitors);
* viewers / carters / placers / buyers: distinct people at each step of the funnel;
* orders: orders placed; paid_orders and gmv: orders paid that day and what they paid;
* refund_amount / refund_orders: refunds that succeeded that day;
* repeat_buyers_30 / _90: buyers of the day with ≥ 2 paid orders in the 30 / 90 days
  ending that day (in the same channel and dimension).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from quanzi.analytics.channels import order_channel, order_dims
from quanzi.analytics.mechanics import REOPEN_DAYS, mechanics_build_day
from quanzi.analytics.models import DailyFact, FactDay, SliceFact, TrafficEvent
from quanzi.core.logging import get_logger

log = get_logger("quanzi.analytics")

GRACE = timedelta(hours=2)
FIRST_RUN_DAYS = 400  # how far back the very first run of the job looks


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


@dataclass
class _Acc:
    visitors: set = field(default_factory=set)
    viewers: set = field(default_factory=set)
    carters: set = field(default_factory=set)
    placers: set = field(default_factory=set)
    buyers: set = field(default_factory=set)
    refund_orders: set = field(default_factory=set)
    views: int = 0
    carts: int = 0
    orders: int = 0
    paid_orders: int = 0
    gmv: int = 0
    refund_amount: int = 0
    paid_30: dict = field(default_factory=lambda: defaultdict(int))
    paid_90: dict = field(default_factory=lambda: defaultdict(int))


def _keys(channel: str, dims: list) -> list[tuple[str, str, int]]:
    keys = [(channel, "all", 0), ("all", "all", 0)]
    for dim, dim_id in dims:
        keys += [(channel, dim, dim_id), ("all", dim, dim_id)]
    return list(dict.fromkeys(keys))


@dataclass
class DayOrders:
    """The orders a day's facts are built from, each with its channel × dimension keys."""

    start: datetime
    end: datetime
    placed: list
    paid: list  # paid in the 90 days ending with the day
    refunds: list  # succeeded that day
    known: dict  # id → order, every order above and the extra ones asked for
    keys_of: dict  # id → [(channel, dim, dim_id), …]

    @property
    def paid_today(self) -> list:
        return [o for o in self.paid if o["paid_at"] >= self.start]


ORDER_FIELDS = ("id", "user_id", "channel", "share_token", "payable", "created_at", "paid_at")


def day_orders(*, day: date, extra_ids=()) -> DayOrders:
    """Orders placed or paid on ``day`` (paid: the 90 days before too, for repeat
    buyers), refunds that succeeded on it, and the orders ``extra_ids`` name."""
    from quanzi.orders.models import Order, Refund, RefundStatus

    start = day_start(day)
    end = day_start(day + timedelta(days=1))
    since_90 = day_start(day - timedelta(days=89))
    fields = ORDER_FIELDS
    placed = list(Order.objects.filter(created_at__gte=start, created_at__lt=end).values(*fields))
    paid = list(
        Order.objects.filter(paid_at__gte=since_90, paid_at__lt=end)
        .exclude(paid_at__isnull=True)
        .values(*fields)
    )
    refunds = list(
        Refund.objects.filter(
            status=RefundStatus.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end
        ).values("order_id", "amount", "lines")
    )
    known = {o["id"]: o for o in placed + paid}
    missing = ({r["order_id"] for r in refunds} | set(extra_ids)) - set(known)
    for chunk in _chunks(sorted(missing)):
        for o in Order.objects.filter(pk__in=chunk).values(*fields):
            known[o["id"]] = o
    dims = order_dims(known, {i: o["share_token"] for i, o in known.items()})
    keys_of: dict[int, list] = {}
    for order_id, o in known.items():
        named = {d for d, _ in dims.get(order_id, [])}
        channel = order_channel(
            channel=o["channel"],
            share_token=o["share_token"],
            has_creator="creator" in named,
            has_circle="circle" in named,
        )
        keys_of[order_id] = _keys(channel, dims.get(order_id, []))
    return DayOrders(start, end, placed, paid, refunds, known, keys_of)


def _chunks(ids: list, size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def facts_compute_day(
    *, day: date, orders: DayOrders | None = None
) -> dict[tuple[str, str, int], _Acc]:
    orders = orders or day_orders(day=day)
    start, end = orders.start, orders.end
    since_30 = day_start(day - timedelta(days=29))
    placed, paid, refunds, keys_of = orders.placed, orders.paid, orders.refunds, orders.keys_of
    acc: dict[tuple[str, str, int], _Acc] = defaultdict(_Acc)
    for o in placed:
        person = f"u:{o['user_id']}"
        for key in keys_of[o["id"]]:
            a = acc[key]
            a.orders += 1
            a.placers.add(person)
            a.visitors.add(person)
    for o in paid:
        person = f"u:{o['user_id']}"
        for key in keys_of[o["id"]]:
            a = acc[key]
            a.paid_90[person] += 1
            if o["paid_at"] >= since_30:
                a.paid_30[person] += 1
            if o["paid_at"] >= start:
                a.paid_orders += 1
                a.gmv += o["payable"]
                a.buyers.add(person)
                a.visitors.add(person)
    for r in refunds:
        for key in keys_of[r["order_id"]]:
            acc[key].refund_amount += r["amount"]
            acc[key].refund_orders.add(r["order_id"])
    traffic = TrafficEvent.objects.filter(created_at__gte=start, created_at__lt=end).values(
        "kind", "visitor", "channel", "shop_id", "leader_id", "creator_id"
    )
    for t in traffic:
        dims_t = [
            (d, t[f"{d}_id"]) for d in ("shop", "leader", "creator") if t[f"{d}_id"] is not None
        ]
        for key in _keys(t["channel"] or "direct", dims_t):
            a = acc[key]
            a.visitors.add(t["visitor"])
            if t["kind"] == TrafficEvent.VIEW:
                a.views += 1
                a.viewers.add(t["visitor"])
            else:
                a.carts += 1
                a.carters.add(t["visitor"])
    return acc


def facts_build_day(*, day: date) -> int:
    """Replace the facts of ``day`` (and its breakdowns); returns the daily rows written."""
    from quanzi.analytics.slices import slices_compute_day, slices_extra_orders

    orders = day_orders(day=day, extra_ids=slices_extra_orders(day=day))
    acc = facts_compute_day(day=day, orders=orders)
    slices = slices_compute_day(day=day, orders=orders)
    rows = [
        DailyFact(
            day=day,
            channel=channel,
            dim=dim,
            dim_id=dim_id,
            visitors=len(a.visitors),
            viewers=len(a.viewers),
            views=a.views,
            carters=len(a.carters),
            carts=a.carts,
            placers=len(a.placers),
            orders=a.orders,
            buyers=len(a.buyers),
            paid_orders=a.paid_orders,
            gmv=a.gmv,
            refund_amount=a.refund_amount,
            refund_orders=len(a.refund_orders),
            repeat_buyers_30=sum(1 for p in a.buyers if a.paid_30[p] >= 2),
            repeat_buyers_90=sum(1 for p in a.buyers if a.paid_90[p] >= 2),
        )
        for (channel, dim, dim_id), a in sorted(acc.items())
        if a.visitors or a.refund_orders
    ]
    now = timezone.now()
    with transaction.atomic():
        DailyFact.objects.filter(day=day).delete()
        DailyFact.objects.bulk_create(rows)
        SliceFact.objects.filter(day=day).delete()
        SliceFact.objects.bulk_create(slices, batch_size=500)
        mechanics_build_day(day=day)
        FactDay.objects.update_or_create(
            day=day,
            defaults={"built_at": now, "closed": now >= day_start(day + timedelta(days=1)) + GRACE},
        )
    return len(rows)


def facts_backfill(*, start: date, end: date) -> int:
    """Rebuild every day from ``start`` to ``end`` (both included); returns the days."""
    day, count = start, 0
    while day <= end:
        facts_build_day(day=day)
        day += timedelta(days=1)
        count += 1
    log.info("analytics backfill", extra={"start": str(start), "end": str(end), "days": count})
    return count


def facts_refresh() -> int:
    """The job: build each day not closed yet, from the first open one to today."""
    from quanzi.orders.models import Order

    today = local_day(timezone.now())
    last_closed = FactDay.objects.filter(closed=True).order_by("-day").first()
    if last_closed is not None:
        start = last_closed.day + timedelta(days=1)
        open_days = FactDay.objects.filter(closed=False, day__lt=start).values_list(
            "day", flat=True
        )
        start = min([start, *open_days])
    else:
        first = Order.objects.order_by("created_at").values_list("created_at", flat=True).first()
        start = local_day(first) if first else today
        start = max(start, today - timedelta(days=FIRST_RUN_DAYS))
    # Groups and bargains end after the day they started: their days stay open longer.
    for back in range(REOPEN_DAYS, 0, -1):
        if today - timedelta(days=back) < start:
            mechanics_build_day(day=today - timedelta(days=back))
    return facts_backfill(start=start, end=today)
