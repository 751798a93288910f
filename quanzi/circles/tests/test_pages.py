"""Storefront and dashboard pages of circles."""

from __future__ import annotations

from django.test import Client

from quanzi.circles.health import circle_health_compute
from quanzi.circles.members import circle_join
from quanzi.circles.models import Membership


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_a_shopper_finds_a_circle_by_label_and_joins(make_user, make_circle, labels):
    circle = make_circle(name="周末徒步", label="户外")
    make_circle(name="宝妈圈", label="母婴")
    shopper = make_user()
    client = _client(shopper)
    listing = client.get(f"/circles/?label={labels['户外'].pk}").content.decode()
    assert "周末徒步" in listing and "宝妈圈" not in listing
    page = client.get(f"/circles/{circle.pk}/").content.decode()
    assert 'id="join-circle"' in page
    client.post(f"/circles/{circle.pk}/join")
    assert Membership.objects.get(circle=circle, user=shopper).status == "member"
    page = client.get(f"/circles/{circle.pk}/").content.decode()
    assert 'id="leave-circle"' in page
    assert "周末徒步" in client.get("/me/circles/").content.decode()
    assert "/me/circles/" in client.get("/me/").content.decode()


def test_an_invitation_link_lets_a_friend_into_an_invite_only_circle(make_user, make_circle):
    from quanzi.circles.members import invite_create

    circle = make_circle(join_policy="invite")
    token = invite_create(circle_id=circle.pk, user=circle.owner).token
    friend = make_user()
    client = _client(friend)
    assert 'id="join-circle"' not in client.get(f"/circles/{circle.pk}/").content.decode()
    page = client.get(f"/circles/{circle.pk}/?invite={token}").content.decode()
    assert 'id="join-circle"' in page and token in page
    client.post(f"/circles/{circle.pk}/join", {"invite": token})
    assert Membership.objects.get(circle=circle, user=friend).invited_by == circle.owner


def test_the_circle_buy_page_lists_deals_with_a_countdown(
    make_user, make_product, make_circle, operator
):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.groupbuy.services import campaign_create

    sku = make_product(title="登山杖", price=9900, supply_price=5000, stock=10).skus.get()
    campaign = campaign_create(
        title="登山杖 2 人团",
        skus=[{"sku_id": sku.pk, "group_price": 6900}],
        group_size=2,
        group_ttl_seconds=3600,
        per_user_limit=2,
        stock=5,
        ends_at=timezone.now() + timedelta(days=2),
    )
    circle = make_circle(label="户外")
    operator.api.post(f"/admin/circles/{circle.pk}/deals", {"kind": "group", "ref_id": campaign.pk})
    member, outsider = make_user(), make_user()
    circle_join(circle_id=circle.pk, user=member)
    page = _client(member).get(f"/circles/{circle.pk}/buy/").content.decode()
    assert "登山杖 2 人团" in page and 'class="countdown" data-deadline=' in page
    assert 'id="circle-group-buy"' in page
    other = _client(outsider).get(f"/circles/{circle.pk}/buy/").content.decode()
    assert 'id="circle-group-buy"' not in other


def test_owner_tools_and_health_page(make_user, make_circle, circle_owner):
    circle = make_circle(join_policy="approval")
    asker = make_user(nickname="想进圈")
    from quanzi.circles.members import circle_join as join

    join(circle_id=circle.pk, user=asker, answer="")
    owner = _client(circle_owner)
    assert "想进圈" in owner.get(f"/circles/{circle.pk}/members/").content.decode()
    owner.post(f"/circles/{circle.pk}/members/{asker.pk}/approve")
    assert Membership.objects.get(circle=circle, user=asker).status == "member"
    assert _client(asker).get(f"/circles/{circle.pk}/members/").status_code == 404
    circle_health_compute(circle=circle)
    health = owner.get(f"/circles/{circle.pk}/health/").content.decode()
    assert 'id="h-members">2<' in health and "W+0" in health
    _has_health_charts(health, members=2)
    assert _client(asker).get(f"/circles/{circle.pk}/health/").status_code == 404


def _has_health_charts(page: str, members: int | None = None) -> None:
    """The charts are drawn by ECharts, the analytics app's vendored copy (by its static
    path, not a copy), from the page's JSON."""
    import json
    import re

    from django.contrib.staticfiles import finders

    assert "/static/analytics/vendor/echarts.min.js" in page
    assert "/static/circles/health.js" in page
    for chart in ("chart-members", "chart-sales", "chart-retention"):
        assert f'id="{chart}"' in page
    found = re.search(
        r'<script id="circle-health-data" type="application/json">(.*?)</script>', page
    )
    data = json.loads(found.group(1))
    assert set(data) >= {"labels", "members", "active_7d", "gmv_yuan", "orders", "cohorts"}
    if members is not None:
        assert data["members"][-1] == members and data["cohorts"][0]["share"][0] == 100
    assert finders.find("analytics/vendor/echarts.min.js") and finders.find("circles/health.js")


def test_dashboard_labels_owners_suspension_and_health(make_user, make_circle, operator):
    circle = make_circle()
    ops = _client(operator)
    ops.post("/dashboard/circles/labels/", {"name": "美妆"})
    assert "美妆" in ops.get("/dashboard/circles/labels/").content.decode()
    applicant = make_user(nickname="想当群主")
    from quanzi.circles.services import owner_apply, owner_is_approved

    owner_apply(user=applicant, intro="读书会")
    assert "想当群主" in ops.get("/dashboard/circles/owners/").content.decode()
    ops.post(f"/dashboard/circles/owners/{applicant.pk}/approve/")
    assert owner_is_approved(applicant)
    ops.post(f"/dashboard/circles/{circle.pk}/suspend/", {"reason": "广告太多"})
    circle.refresh_from_db()
    assert circle.status == "suspended"
    assert "广告太多" in ops.get("/dashboard/circles/").content.decode()
    dash = ops.get(f"/dashboard/circles/{circle.pk}/health/")
    assert dash.status_code == 200
    _has_health_charts(dash.content.decode())
    assert _client(make_user()).get("/dashboard/circles/").status_code in (302, 403)


def test_refusals_on_the_circle_page_are_told_in_chinese(make_user, make_circle):
    circle = make_circle(name="小圈", cap=2)  # the owner and one more
    _client(make_user()).post(f"/circles/{circle.pk}/join")
    late = _client(make_user())
    page = late.post(f"/circles/{circle.pk}/join", follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "圈子已满员" in page.content.decode()
    invite_only = make_circle(name="邀请圈", join_policy="invite")
    page = late.post(
        f"/circles/{invite_only.pk}/join", follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "仅限邀请加入" in page
