"""The population mode: people living days in the shop, facts built, ledger balanced."""

from __future__ import annotations

from django.db.models import Sum

from quanzi.simulation.population import populate, population_format


def test_a_small_population_fills_the_facts_and_keeps_the_ledger_balanced(db):
    from quanzi.analytics.models import DailyFact, TrafficEvent
    from quanzi.orders.models import Order

    report = populate(days=3, users=16, seed=5)
    text = population_format(report)
    assert report.ledger_problems == [], text
    assert report.orders > 0 and report.paid > 0 and report.views > 0 and report.carts > 0
    # The facts of every channel add up to what the orders and traffic say.
    facts = DailyFact.objects.filter(channel="all", dim="all")
    assert facts.values("day").distinct().count() >= 3
    paid = Order.objects.exclude(paid_at__isnull=True)
    assert facts.aggregate(g=Sum("gmv"))["g"] == paid.aggregate(g=Sum("payable"))["g"]
    assert facts.aggregate(c=Sum("carts"))["c"] == TrafficEvent.objects.filter(kind="cart").count()
    # More than one selling mechanic shows in the facts.
    channels = set(DailyFact.objects.exclude(channel="all").values_list("channel", flat=True))
    assert {"direct", "group"} <= channels, channels
    assert "share" in channels
