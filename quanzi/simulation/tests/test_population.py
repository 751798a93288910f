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


def test_the_mechanics_facts_equal_a_direct_count_and_show_on_their_page(db):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from quanzi.accounts.services import user_create
    from quanzi.analytics.models import MechanicFact
    from quanzi.bargain.models import Bargain
    from quanzi.groupbuy.models import Group

    populate(days=3, users=14, seed=7)
    groups = Group.objects.exclude(status__in=["pending", "cancelled"])
    facts = MechanicFact.objects.filter(mechanic="group")
    assert sum(f.started for f in facts) == groups.count() > 0
    assert sum(f.succeeded for f in facts) == groups.filter(status="succeeded").count()
    bargains = MechanicFact.objects.filter(mechanic="bargain")
    assert sum(f.started for f in bargains) == Bargain.objects.count()
    assert sum(f.helpers for f in bargains) == sum(
        Bargain.objects.values_list("helpers_count", flat=True)
    )

    operator = user_create(phone="13812345678", password="secret123", roles=("operator",))
    customer = user_create(phone="13812345679", password="secret123")
    web = Client()
    web.force_login(operator)
    today = timezone.localdate()
    query = f"?start={today - timedelta(days=5)}&end={today}"
    page = web.get("/dashboard/analytics/mechanics/" + query)
    assert page.status_code == 200 and "chart-mechanic-rates" in page.content.decode()
    csv = web.get("/dashboard/analytics/mechanics/mechanics.csv" + query).content.decode()
    assert "成团率" in csv or "Group success rate" in csv
    assert len(csv.strip().splitlines()) == 1 + 6  # a header and a row per day
    stranger = Client()
    stranger.force_login(customer)
    assert stranger.get("/dashboard/analytics/mechanics/").status_code in (302, 403)
    assert stranger.get("/dashboard/analytics/mechanics/shops.csv").status_code in (302, 403)


def test_the_population_buys_at_pickup_points_and_through_notes(db):
    from quanzi.analytics.models import DailyFact
    from quanzi.community.models import CommunityOrder
    from quanzi.content.models import Note, NoteTouch
    from quanzi.orders.models import Order

    report = populate(days=4, users=24, seed=2)
    assert report.ledger_problems == [], population_format(report)
    assert report.ops["community_order"] > 0 and report.ops["note_read"] > 0
    # Paid community orders of a past wave are collected with their code: completed.
    collected = CommunityOrder.objects.filter(picked_up_at__isnull=False)
    assert collected.exists()
    assert set(
        Order.objects.filter(pk__in=collected.values("order_id")).values_list("status", flat=True)
    ) <= {"completed", "picked_up", "refunding", "refunded"}
    # Notes were opened (views and touches for attribution).
    assert NoteTouch.objects.exists()
    assert sum(Note.objects.values_list("view_count", flat=True)) == NoteTouch.objects.count()
    channels = set(DailyFact.objects.exclude(channel="all").values_list("channel", flat=True))
    assert "community" in channels, channels
