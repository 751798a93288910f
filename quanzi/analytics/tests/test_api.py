from __future__ import annotations

from datetime import date, timedelta

import pytest

from quanzi.analytics.models import DailyFact, TrafficEvent

DAY = date(2026, 11, 10)


def _fact(day, *, channel="all", dim="all", dim_id=0, gmv=0, visitors=0, buyers=0, paid=0):
    DailyFact.objects.create(
        day=day,
        channel=channel,
        dim=dim,
        dim_id=dim_id,
        gmv=gmv,
        visitors=visitors,
        viewers=visitors,
        buyers=buyers,
        placers=buyers,
        paid_orders=paid,
    )


@pytest.fixture
def facts(make_user):
    """Facts of the whole shop, of a shop, a leader and a creator, on two weeks."""
    from quanzi.community.models import Leader
    from quanzi.content.models import Creator
    from quanzi.distribution.models import Shop

    keeper, other_keeper = make_user(nickname="店主"), make_user(nickname="别的店主")
    shop = Shop.objects.create(owner=keeper, name="小店", slug="xd", share_token="t1")
    other = Shop.objects.create(owner=other_keeper, name="别店", slug="bd", share_token="t2")
    leader_user = make_user(nickname="团长")
    leader = Leader.objects.create(user=leader_user, share_code="L1")
    creator = make_user(nickname="达人")
    Creator.objects.create(user=creator, status="approved")
    for i in range(14):
        day = DAY - timedelta(days=i)
        # The last week doubled its visitors against the week before.
        visitors = 200 if i < 7 else 100
        _fact(day, gmv=visitors * 50, visitors=visitors, buyers=visitors // 10, paid=visitors // 10)
        _fact(day, channel="share", gmv=1000, visitors=20, buyers=2, paid=2)
        _fact(day, dim="shop", dim_id=shop.pk, gmv=700, visitors=7, buyers=1, paid=1)
        _fact(day, dim="shop", dim_id=other.pk, gmv=99_900, visitors=9, buyers=9, paid=9)
        _fact(day, dim="leader", dim_id=leader.pk, gmv=300, visitors=3, buyers=1, paid=1)
        _fact(day, dim="creator", dim_id=creator.pk, gmv=500, visitors=5, buyers=1, paid=1)
    return {"keeper": keeper, "leader": leader_user, "creator": creator, "shop": shop}


def _period(channel="all"):
    return f"start={DAY - timedelta(days=6)}&end={DAY}&channel={channel}"


def test_the_operator_sees_gmv_per_day_and_what_moved_it(operator, facts):
    answer = operator.api.get(f"/admin/analytics/gmv?{_period()}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert len(body["days"]) == 7 and body["days"][-1]["gmv"] == 10_000
    compare = body["compare"]
    assert compare["current"]["gmv"] == 70_000 and compare["previous"]["gmv"] == 35_000
    assert compare["change"] == 35_000 and compare["driver"] == "visitors"
    assert sum(compare["contributions"].values()) == pytest.approx(35_000)
    share = operator.api.get(f"/admin/analytics/gmv?{_period('share')}").json()
    assert share["compare"]["current"]["gmv"] == 7000


def test_the_operator_sees_channels_and_funnels(operator, facts):
    body = operator.api.get(f"/admin/analytics/channels?{_period()}").json()
    names = [row["channel"] for row in body["channels"]]
    assert names == ["all", "share"]
    steps = body["channels"][0]["funnel"]
    assert [s["step"] for s in steps] == ["view", "cart", "order", "pay"]
    assert steps[0]["people"] == 1400


def test_a_bad_period_is_a_clear_422(operator, facts):
    answer = operator.api.get(f"/admin/analytics/gmv?start={DAY}&end={DAY - timedelta(days=1)}")
    assert answer.status_code == 422 and answer.json()["code"] == "bad_period"
    answer = operator.api.get("/admin/analytics/gmv?start=2020-01-01&end=2026-01-01")
    assert answer.status_code == 422 and answer.json()["code"] == "period_too_long"
    assert operator.api.get("/admin/analytics/gmv?channel=moon").status_code == 422
    assert operator.api.get("/admin/analytics/gmv?channel=circle").status_code == 200


def test_customers_and_shopkeepers_may_not_read_the_whole_shop(customer, facts):
    for who in [customer, facts["keeper"], facts["leader"]]:
        assert who.api.get(f"/admin/analytics/gmv?{_period()}").status_code == 403
        assert who.api.get(f"/admin/analytics/channels?{_period()}").status_code == 403


def test_each_sees_only_their_own_scope(customer, facts):
    assert customer.api.get(f"/me/analytics?{_period()}").json() == {"scopes": []}
    keeper = facts["keeper"].api.get(f"/me/analytics?{_period()}").json()["scopes"]
    assert [(s["dim"], s["dim_id"]) for s in keeper] == [("shop", facts["shop"].pk)]
    assert keeper[0]["gmv"]["compare"]["current"]["gmv"] == 7 * 700  # not the other shop's
    leader = facts["leader"].api.get(f"/me/analytics?{_period()}").json()["scopes"]
    assert [s["dim"] for s in leader] == ["leader"]
    assert leader[0]["gmv"]["compare"]["current"]["gmv"] == 7 * 300
    creator = facts["creator"].api.get(f"/me/analytics?{_period()}").json()["scopes"]
    assert creator[0]["gmv"]["compare"]["current"]["gmv"] == 7 * 500


def test_views_and_carts_are_recorded_for_anyone(anon, customer):
    assert anon.post("/analytics/events", {"kind": "view", "visitor": "abc"}).status_code == 202
    answer = customer.api.post(
        "/analytics/events", {"kind": "cart", "visitor": "abc", "channel": "group"}
    )
    assert answer.status_code == 202
    rows = list(TrafficEvent.objects.order_by("id").values_list("kind", "visitor", "channel"))
    assert rows == [("view", "s:abc", "direct"), ("cart", f"u:{customer.pk}", "group")]
    assert anon.post("/analytics/events", {"kind": "like", "visitor": "a"}).status_code == 422
