from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db.models import Count, Sum

from quanzi.analytics.facts import day_start, facts_backfill, facts_build_day, facts_refresh
from quanzi.analytics.models import DailyFact, FactDay, TrafficEvent
from quanzi.analytics.tests.conftest import DAY0
from quanzi.orders.models import Order, Refund, RefundStatus

DAYS = [DAY0 + timedelta(days=i) for i in range(7)]


def _direct(day, **filters):
    start, end = day_start(day), day_start(day + timedelta(days=1))
    paid = Order.objects.filter(paid_at__gte=start, paid_at__lt=end, **filters)
    totals = paid.aggregate(n=Count("id"), gmv=Sum("payable"), buyers=Count("user", distinct=True))
    placed = Order.objects.filter(created_at__gte=start, created_at__lt=end, **filters)
    refunds = Refund.objects.filter(
        status=RefundStatus.SUCCEEDED,
        succeeded_at__gte=start,
        succeeded_at__lt=end,
        **{f"order__{k}": v for k, v in filters.items()},
    ).aggregate(amount=Sum("amount"))
    return {
        "orders": placed.count(),
        "placers": placed.values("user").distinct().count(),
        "paid_orders": totals["n"],
        "gmv": totals["gmv"] or 0,
        "buyers": totals["buyers"],
        "refund_amount": refunds["amount"] or 0,
    }


def _fact(day, channel="all", dim="all", dim_id=0):
    row = DailyFact.objects.filter(day=day, channel=channel, dim=dim, dim_id=dim_id).first()
    keys = ["orders", "placers", "paid_orders", "gmv", "buyers", "refund_amount"]
    if row is None:
        return dict.fromkeys(keys, 0)
    return {k: getattr(row, k) for k in keys}


def test_facts_equal_a_direct_count_over_the_orders(history):
    facts_backfill(start=DAYS[0], end=DAYS[-1])
    assert Order.objects.filter(paid_at__isnull=False).count() > 5
    assert Refund.objects.filter(status=RefundStatus.SUCCEEDED).count() == 1
    for day in DAYS:
        assert _fact(day) == _direct(day), day
        assert _fact(day, channel="share") == _direct(day, share_token="shoptok"), day
        assert _fact(day, channel="direct") == _direct(day, share_token=""), day
        shop = history["shop"].pk
        assert _fact(day, dim="shop", dim_id=shop) == _direct(day, share_token="shoptok")
    total = DailyFact.objects.filter(channel="all", dim="all").aggregate(g=Sum("gmv"))["g"]
    assert total == Order.objects.filter(paid_at__isnull=False).aggregate(g=Sum("payable"))["g"]


def test_rebuilding_a_day_changes_nothing(history):
    facts_backfill(start=DAYS[0], end=DAYS[-1])
    before = list(DailyFact.objects.order_by("day", "channel", "dim", "dim_id").values())
    for day in DAYS:
        facts_build_day(day=day)
    after = list(DailyFact.objects.order_by("day", "channel", "dim", "dim_id").values())
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    assert strip(before) == strip(after)


def test_visitors_count_people_once_and_include_buyers(history):
    people = history["people"]
    moment = day_start(DAYS[1]) + timedelta(hours=3)
    for visitor in ["s:anon1", "s:anon1", f"u:{people[0].pk}"]:
        TrafficEvent.objects.create(kind="view", visitor=visitor, created_at=moment)
    TrafficEvent.objects.create(kind="cart", visitor="s:anon1", created_at=moment)
    facts_build_day(day=DAYS[1])
    row = DailyFact.objects.get(day=DAYS[1], channel="all", dim="all")
    assert row.views == 3 and row.viewers == 2 and row.carts == 1 and row.carters == 1
    buyers = set(
        Order.objects.filter(
            paid_at__gte=day_start(DAYS[1]), paid_at__lt=day_start(DAYS[2])
        ).values_list("user_id", flat=True)
    )
    placers = set(
        Order.objects.filter(
            created_at__gte=day_start(DAYS[1]), created_at__lt=day_start(DAYS[2])
        ).values_list("user_id", flat=True)
    )
    assert row.visitors == len(
        {"s:anon1", f"u:{people[0].pk}"} | {f"u:{u}" for u in buyers | placers}
    )
    assert row.buyers <= row.visitors


def test_repeat_buyers_have_two_paid_orders_in_the_window(history):
    facts_backfill(start=DAYS[0], end=DAYS[-1])
    for day in DAYS:
        row = DailyFact.objects.filter(day=day, channel="all", dim="all").first()
        if row is None:
            continue
        end = day_start(day + timedelta(days=1))
        start_day = day_start(day)
        buyers = set(
            Order.objects.filter(paid_at__gte=start_day, paid_at__lt=end).values_list(
                "user_id", flat=True
            )
        )
        repeat = [
            u
            for u in buyers
            if Order.objects.filter(
                user_id=u, paid_at__gte=end - timedelta(days=30), paid_at__lt=end
            ).count()
            >= 2
        ]
        assert row.repeat_buyers_30 == len(repeat)


def test_the_job_builds_open_days_and_closes_past_ones(history):
    facts_refresh()
    assert FactDay.objects.filter(day=DAYS[0], closed=True).exists()
    built = FactDay.objects.get(day=DAYS[0]).built_at
    facts_refresh()  # a closed day is left alone
    assert FactDay.objects.get(day=DAYS[0]).built_at == built
    assert _fact(DAYS[2]) == _direct(DAYS[2])


def test_the_backfill_command_builds_the_range(history, capsys):
    call_command("analytics_backfill", "--from", str(DAYS[0]), "--to", str(DAYS[-1]))
    assert "built 7 day(s)" in capsys.readouterr().out
    assert FactDay.objects.count() == 7
