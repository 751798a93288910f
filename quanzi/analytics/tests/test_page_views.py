"""Opening a product page is a ``view`` in the traffic the daily facts count."""

from __future__ import annotations

from django.test import Client

from quanzi.analytics.models import TrafficEvent


def test_product_pages_count_views_per_visitor_and_channel(make_user, make_product):
    product = make_product(title="登山鞋")
    stranger = Client()
    assert stranger.get(f"/p/{product.pk}").status_code == 200
    assert stranger.get(f"/p/{product.pk}").status_code == 200
    member = make_user()
    browser = Client()
    browser.force_login(member)
    share = member.api.post("/shares", {"target": "product", "target_id": product.pk}).json()
    friend = Client()
    assert friend.get(f"/s/{share['token']}").status_code == 302  # the share link
    assert friend.get(f"/p/{product.pk}").status_code == 200
    assert browser.get(f"/p/{product.pk}").status_code == 200

    views = list(
        TrafficEvent.objects.filter(kind="view", product_id=product.pk)
        .order_by("id")
        .values_list("visitor", "channel")
    )
    assert len(views) == 4
    assert views[0] == views[1] and views[0][0].startswith("s:")  # one visitor, twice
    assert views[2][1] == "share" and views[2][0] != views[0][0]
    assert views[3] == (f"u:{member.pk}", "direct")


def test_adding_to_the_cart_is_a_cart_in_the_traffic_and_the_facts(make_user, make_product):
    from django.utils import timezone

    from quanzi.analytics.facts import facts_build_day, local_day
    from quanzi.analytics.models import DailyFact

    product = make_product(title="冲锋衣")
    sku = product.skus.order_by("id").first()
    member = make_user()
    browser = Client()
    browser.force_login(member)
    assert browser.post("/cart/add/", {"sku_id": sku.pk, "qty": 1}).status_code == 302
    [cart] = TrafficEvent.objects.filter(kind="cart")
    assert (cart.visitor, cart.product_id, cart.channel) == (f"u:{member.pk}", product.pk, "direct")
    facts_build_day(day=local_day(timezone.now()))
    fact = DailyFact.objects.get(channel="all", dim="all")
    assert (fact.carts, fact.carters) == (1, 1)
