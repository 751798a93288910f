from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from django.test import Client

from quanzi.analytics.tests.test_api import DAY, facts  # noqa: F401  (the fixture)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _period():
    return f"start={DAY - timedelta(days=6)}&end={DAY}"


def _chart(html: str) -> dict:
    found = re.search(r'<script id="analytics-data"[^>]*>(.*?)</script>', html, re.S)
    assert found, "the chart data is on the page"
    return json.loads(found.group(1))


def _rows(answer) -> list[list[str]]:
    text = answer.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_the_operator_page_shows_charts_tables_and_exports(operator, facts):  # noqa: F811
    client = _client(operator)
    page = client.get(f"/dashboard/analytics/?{_period()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "analytics/vendor/echarts.min.js" in html and 'id="chart-gmv"' in html
    data = _chart(html)
    assert data["gmv"][-1] == 100.0 and len(data["days"]) == 7
    days = _rows(client.get(f"/dashboard/analytics/days.csv?{_period()}"))
    assert len(days) == 8 and days[-1][0] == str(DAY) and days[-1][5] == "100.00"
    channels = _rows(client.get(f"/dashboard/analytics/channels.csv?{_period()}"))
    assert len(channels) == 3  # header, all channels, shared links
    share = _rows(client.get(f"/dashboard/analytics/days.csv?{_period()}&channel=share"))
    assert share[-1][5] == "10.00"


def test_the_operator_pages_are_for_operators(customer, facts):  # noqa: F811
    for who in [customer, facts["keeper"]]:
        client = _client(who)
        assert client.get("/dashboard/analytics/").status_code == 403
        assert client.get("/dashboard/analytics/days.csv").status_code == 403
    assert Client().get("/dashboard/analytics/").status_code == 302


def test_a_shopkeeper_sees_only_their_shop(customer, facts):  # noqa: F811
    client = _client(facts["keeper"])
    page = client.get(f"/analytics/?{_period()}")
    assert page.status_code == 200
    html = page.content.decode()
    data = _chart(html)
    assert data["gmv"] == [7.0] * 7  # the other shop's 999 yuan a day never shows
    days = _rows(client.get(f"/analytics/shop/days.csv?{_period()}"))
    assert [row[5] for row in days[1:]] == ["7.00"] * 7
    # Not a leader: the leader's view is not theirs.
    assert client.get("/analytics/leader/").status_code == 403
    assert client.get("/analytics/leader/days.csv").status_code == 403


def test_leaders_and_creators_see_their_own(customer, facts):  # noqa: F811
    leader = _client(facts["leader"])
    days = _rows(leader.get(f"/analytics/leader/days.csv?{_period()}"))
    assert [row[5] for row in days[1:]] == ["3.00"] * 7
    creator = _client(facts["creator"])
    days = _rows(creator.get(f"/analytics/creator/days.csv?{_period()}"))
    assert [row[5] for row in days[1:]] == ["5.00"] * 7
    assert creator.get("/analytics/shop/").status_code == 403
    assert _client(customer).get("/analytics/").status_code == 403
    assert Client().get("/analytics/").status_code == 302
