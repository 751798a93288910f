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
