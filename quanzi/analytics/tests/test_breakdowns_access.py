"""The breakdowns through the API and the pages: the operator sees all of them, each
shopkeeper, creator and circle owner only their own scope, anyone else nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.test import Client

from quanzi.analytics.models import DailyFact, SliceFact

DAY = date(2026, 11, 10)
WEEK = [DAY - timedelta(days=i) for i in range(7)]
REPORTS = ("members", "profiles", "suppliers", "notes", "shares")


def _slice(report, key, *, dim="all", dim_id=0, channel="all", **measures):
    for day in WEEK:
        SliceFact.objects.create(
            day=day, report=report, key=key, channel=channel, dim=dim, dim_id=dim_id, **measures
        )


@pytest.fixture
def scoped(make_user):
    """A week of breakdowns for the whole shop, a shop, a creator and two circles."""
    from quanzi.catalog.models import Supplier
    from quanzi.circles.models import Circle
    from quanzi.content.models import Creator, Note
    from quanzi.distribution.models import Shop

    keeper = make_user(nickname="店主")
    shop = Shop.objects.create(owner=keeper, name="小店", slug="xd", share_token="t1")
    owner, other_owner = make_user(nickname="圈主"), make_user(nickname="别的圈主")
    circle = Circle.objects.create(owner=owner, name="宝妈圈")
    elsewhere = Circle.objects.create(owner=other_owner, name="户外圈")
    creator = make_user(nickname="达人")
    Creator.objects.create(user=creator, status="approved")
    note = Note.objects.create(author=creator, title="好物笔记", status="published")
    supplier = Supplier.objects.create(name="甲供应商")
    scopes = [
        ("all", 0, 1000),
        ("shop", shop.pk, 70),
        ("circle", circle.pk, 30),
        ("circle", elsewhere.pk, 9000),
        ("creator", creator.pk, 50),
    ]
    for dim, dim_id, gmv in scopes:
        at = {"dim": dim, "dim_id": dim_id}
        DailyFact.objects.create(day=DAY, channel="all", gmv=gmv, visitors=1, buyers=1, **at)
        _slice("member", "member", gmv=gmv, paid_orders=1, buyers=1, **at)
        _slice("member", "other", gmv=gmv * 3, paid_orders=2, buyers=2, **at)
        _slice("region", "浙江省", gmv=gmv, paid_orders=1, buyers=1, **at)
        _slice("buyer", "new", gmv=gmv, paid_orders=1, buyers=1, **at)
        _slice(
            "supplier",
            str(supplier.pk),
            gmv=gmv,
            units=gmv,
            units_refunded=gmv // 10,
            paid_orders=10,
            orders_complained=1,
            reviews=2,
            rating_total=9,
            **at,
        )
        _slice("note", str(note.pk), opens=gmv, openers=gmv, paid_orders=gmv // 10, **at)
        _slice("creator", str(creator.pk), opens=gmv, openers=gmv, paid_orders=gmv // 10, **at)
        _slice(
            "share",
            f"product:{dim_id}",
            sharers=2,
            recipients=gmv // 10,
            buyers=gmv // 100,
            depth=3,
            **at,
        )
    # The channel filter applies to orders' breakdowns.
    _slice("member", "member", channel="partner", gmv=11, paid_orders=1, buyers=1)
    return {
        "keeper": keeper,
        "owner": owner,
        "other_owner": other_owner,
        "circle": circle,
        "elsewhere": elsewhere,
        "creator": creator,
        "note": note,
    }


def _period(channel="all"):
    return f"start={WEEK[-1]}&end={DAY}&channel={channel}"


def test_the_operator_reads_every_breakdown(operator, scoped):
    api = operator.api
    members = api.get(f"/admin/analytics/members?{_period()}").json()
    assert members["total"]["member_gmv"] == 7000 and members["total"]["other_gmv"] == 21000
    assert members["total"]["member_share"] == pytest.approx(0.25)
    assert len(members["days"]) == 7 and members["days"][-1]["member_gmv"] == 1000
    partner = api.get(f"/admin/analytics/members?{_period('partner')}").json()
    assert partner["total"]["member_gmv"] == 77 and partner["total"]["member_share"] == 1.0
    profiles = api.get(f"/admin/analytics/profiles?{_period()}").json()
    assert profiles["regions"][0]["name"] == "浙江省" and profiles["regions"][0]["gmv"] == 7000
    assert profiles["buyer_types"][0]["gmv_share"] == 1.0
    suppliers = api.get(f"/admin/analytics/suppliers?{_period()}").json()["suppliers"]
    assert suppliers[0]["refund_rate"] == pytest.approx(0.1)
    assert suppliers[0]["complaint_rate"] == pytest.approx(0.1) and suppliers[0]["rating"] == 4.5
    notes = api.get(f"/admin/analytics/notes?{_period()}").json()
    assert notes["notes"][0]["title"] == "好物笔记" and notes["notes"][0]["opens"] == 7000
    assert notes["notes"][0]["conversion"] == pytest.approx(0.1)
    assert notes["creators"][0]["name"] == "达人"
    shares = api.get(f"/admin/analytics/shares?{_period()}").json()["campaigns"]
    assert shares[0]["campaign"] == "product:0" and shares[0]["tree_depth"] == 3
    assert shares[0]["invites_per_sharer"] == pytest.approx(700 / 14)
    assert shares[0]["k_factor"] == pytest.approx(70 / 14)


def test_bad_filters_are_clear_422s(operator, scoped):
    for report in REPORTS:
        bad = operator.api.get(f"/admin/analytics/{report}?start={DAY}&end={WEEK[-1]}")
        assert bad.status_code == 422 and bad.json()["code"] == "bad_period"
        assert operator.api.get(f"/admin/analytics/{report}?channel=moon").status_code == 422
        mine = scoped["owner"].api.get(f"/me/analytics/{report}?start={DAY}&end={WEEK[-1]}")
        assert mine.status_code == 422


def test_only_operators_read_the_whole_shop(customer, anon, scoped):
    for report in REPORTS:
        for who in (customer, scoped["keeper"], scoped["owner"], scoped["creator"]):
            answer = who.api.get(f"/admin/analytics/{report}?{_period()}")
            assert answer.status_code == 403, (report, who.nickname)
        assert anon.get(f"/admin/analytics/{report}").status_code == 401
        assert anon.get(f"/me/analytics/{report}").status_code == 401
        assert customer.api.get(f"/me/analytics/{report}").json() == {"scopes": []}


def test_a_circle_owner_sees_only_their_circles(scoped):
    owner, circle = scoped["owner"], scoped["circle"]
    mine = owner.api.get(f"/me/analytics?{_period()}").json()["scopes"]
    assert [(s["dim"], s["dim_id"]) for s in mine] == [("circle", circle.pk)]
    assert mine[0]["gmv"]["compare"]["current"]["gmv"] == 30  # not the other circle's 9000
    members = owner.api.get(f"/me/analytics/members?{_period()}").json()["scopes"]
    assert [(s["dim"], s["dim_id"], s["name"]) for s in members] == [
        ("circle", circle.pk, "宝妈圈")
    ]
    assert members[0]["total"]["member_gmv"] == 7 * 30
    profiles = owner.api.get(f"/me/analytics/profiles?{_period()}").json()["scopes"][0]
    assert profiles["regions"][0]["gmv"] == 7 * 30
    suppliers = owner.api.get(f"/me/analytics/suppliers?{_period()}").json()["scopes"][0]
    assert suppliers["suppliers"][0]["units"] == 7 * 30
    notes = owner.api.get(f"/me/analytics/notes?{_period()}").json()["scopes"][0]
    assert notes["notes"][0]["opens"] == 7 * 30
    shares = owner.api.get(f"/me/analytics/shares?{_period()}").json()["scopes"][0]
    assert [c["campaign"] for c in shares["campaigns"]] == [f"product:{circle.pk}"]
    other = scoped["other_owner"].api.get(f"/me/analytics/members?{_period()}").json()
    assert other["scopes"][0]["total"]["member_gmv"] == 7 * 9000


def test_shopkeepers_and_creators_see_their_own(scoped):
    keeper = scoped["keeper"].api.get(f"/me/analytics/members?{_period()}").json()["scopes"]
    assert [s["dim"] for s in keeper] == ["shop"] and keeper[0]["total"]["member_gmv"] == 490
    creator = scoped["creator"].api.get(f"/me/analytics/notes?{_period()}").json()["scopes"]
    assert [s["dim"] for s in creator] == ["creator"]
    assert creator[0]["notes"][0]["opens"] == 350


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.status_code
    text = answer.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def _chart(html: str) -> dict:
    found = re.search(r'<script id="breakdowns-data"[^>]*>(.*?)</script>', html, re.S)
    assert found, "the chart data is on the page"
    return json.loads(found.group(1))


TABLES = ("members", "regions", "levels", "buyers", "suppliers", "notes", "creators", "shares")


def test_the_operator_page_charts_and_exports_every_table(operator, scoped):
    client = _client(operator)
    page = client.get(f"/dashboard/analytics/breakdowns/?{_period()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "analytics/charts.js" in html and 'id="chart-shares"' in html
    data = _chart(html)
    assert data["member_gmv"] == [10.0] * 7 and data["k_factor"][0] == pytest.approx(5.0)
    for which in TABLES:
        assert f'id="csv-{which}"' in html
        rows = _rows(client.get(f"/dashboard/analytics/breakdowns/{which}.csv?{_period()}"))
        assert len(rows) >= 2 or which == "levels", which
    members = _rows(client.get(f"/dashboard/analytics/breakdowns/members.csv?{_period()}"))
    assert len(members) == 8 and members[-1][:4] == [str(DAY), "10.00", "30.00", "25.00%"]
    shares = _rows(client.get(f"/dashboard/analytics/breakdowns/shares.csv?{_period()}"))
    assert shares[1][0] == "product:0" and shares[1][8] == "5.000"
    assert client.get("/dashboard/analytics/breakdowns/nope.csv").status_code == 404


def test_the_operator_page_is_for_operators(customer, scoped):
    for who in (customer, scoped["keeper"], scoped["owner"]):
        client = _client(who)
        assert client.get("/dashboard/analytics/breakdowns/").status_code == 403
        assert client.get("/dashboard/analytics/breakdowns/members.csv").status_code == 403
    assert Client().get("/dashboard/analytics/breakdowns/").status_code == 302


def test_a_circle_owners_pages_show_only_their_circle(customer, scoped):
    circle, elsewhere = scoped["circle"], scoped["elsewhere"]
    client = _client(scoped["owner"])
    gmv = client.get(f"/analytics/?{_period()}")
    assert gmv.status_code == 200 and f"/analytics/circle-{circle.pk}/" in gmv.content.decode()
    days = _rows(client.get(f"/analytics/circle-{circle.pk}/days.csv?{_period()}"))
    assert days[-1][5] == "0.30"  # 30 fen: never the other circle's 9000
    page = client.get(f"/analytics/circle-{circle.pk}/breakdowns/?{_period()}")
    assert page.status_code == 200
    assert _chart(page.content.decode())["member_gmv"] == [0.3] * 7
    for which in TABLES:
        answer = client.get(f"/analytics/circle-{circle.pk}/breakdowns/{which}.csv?{_period()}")
        assert answer.status_code == 200, which
    members = _rows(client.get(f"/analytics/circle-{circle.pk}/breakdowns/members.csv?{_period()}"))
    assert [row[1] for row in members[1:]] == ["0.30"] * 7
    shares = _rows(client.get(f"/analytics/circle-{circle.pk}/breakdowns/shares.csv?{_period()}"))
    assert [row[0] for row in shares[1:]] == [f"product:{circle.pk}"]
    # Another owner's circle, and the other scopes, are not theirs.
    for path in (
        f"/analytics/circle-{elsewhere.pk}/",
        f"/analytics/circle-{elsewhere.pk}/days.csv",
        f"/analytics/circle-{elsewhere.pk}/breakdowns/",
        f"/analytics/circle-{elsewhere.pk}/breakdowns/members.csv",
        "/analytics/shop/breakdowns/",
        "/analytics/creator/breakdowns/notes.csv",
    ):
        assert client.get(path).status_code == 403, path
    plain = _client(customer)
    assert plain.get(f"/analytics/circle-{circle.pk}/breakdowns/").status_code == 403
    assert Client().get(f"/analytics/circle-{circle.pk}/breakdowns/").status_code == 302


def test_a_shopkeepers_breakdowns_are_their_shops(scoped):
    client = _client(scoped["keeper"])
    members = _rows(client.get(f"/analytics/shop/breakdowns/members.csv?{_period()}"))
    assert [row[1] for row in members[1:]] == ["0.70"] * 7
    assert client.get("/analytics/leader/breakdowns/").status_code == 403
    creator = _client(scoped["creator"])
    notes = _rows(creator.get(f"/analytics/creator/breakdowns/notes.csv?{_period()}"))
    assert notes[1][1] == "好物笔记" and notes[1][3] == "350"
