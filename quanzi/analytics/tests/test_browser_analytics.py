"""The operator in headless Chromium: the GMV page, a new date range, the charts
redrawn, a CSV exported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError

from quanzi.analytics.tests.test_api import DAY, facts  # noqa: F401  (the fixture)
from quanzi.analytics.tests.test_breakdowns_access import scoped  # noqa: F401  (the fixture)
from quanzi.storefront.tests.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GMV_POINTS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-gmv'));
  return chart ? chart.getOption().xAxis[0].data.length : -1;
}"""


def test_operator_changes_the_period_and_exports(new_desktop, live_server, operator, facts):  # noqa: F811
    page = new_desktop()
    page.goto("/dashboard/login/")
    page.fill("#id_phone", operator.phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/dashboard/")
    page.click("nav.nav a[href='/dashboard/analytics/']")
    page.wait_for_url("**/dashboard/analytics/")
    page.goto(f"/dashboard/analytics/?start={DAY - timedelta(days=6)}&end={DAY}")
    page.wait_for_function("document.querySelector('#chart-gmv canvas') !== null")
    assert page.evaluate(GMV_POINTS) == 7
    assert "成交额" in page.inner_text("main")
    shot(page, "analytics-01-gmv")

    page.fill("#id_start", str(DAY - timedelta(days=13)))
    page.dispatch_event("#id_start", "change")  # the filters apply themselves
    try:
        page.wait_for_url(f"**start={DAY - timedelta(days=13)}**")
    except PlaywrightError:
        # A second change event (the field's blur) restarted the navigation, aborting
        # the first one; the second lands on the same filtered page.
        page.wait_for_url(f"**start={DAY - timedelta(days=13)}**")
    page.wait_for_function("document.querySelector('#chart-gmv canvas') !== null")
    assert page.evaluate(GMV_POINTS) == 14
    assert page.locator("#table-days tbody tr").count() == 14
    shot(page, "analytics-02-two-weeks")

    with page.expect_download() as download:
        page.click("#csv-days")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("日期,访客数")
    assert len(text.splitlines()) == 15


BREAKDOWN_POINTS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  return chart ? chart.getOption().series[0].data.length : -1;
}"""


def test_a_circle_owner_reads_their_breakdowns(new_phone, live_server, scoped):  # noqa: F811
    from quanzi.analytics.tests.test_breakdowns_access import DAY as B_DAY
    from quanzi.analytics.tests.test_breakdowns_access import WEEK

    circle = scoped["circle"]
    page = new_phone()
    path = f"/analytics/circle-{circle.pk}/breakdowns/"
    page.goto(f"/login/?next={path}")
    page.fill("#id_phone", scoped["owner"].phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.goto(f"{path}?start={WEEK[-1]}&end={B_DAY}")
    page.wait_for_function("document.querySelector('#chart-shares canvas') !== null")
    assert page.evaluate(BREAKDOWN_POINTS, "chart-members") == 7
    assert page.evaluate(BREAKDOWN_POINTS, "chart-shares") == 1
    assert "K 因子" in page.inner_text("main")
    assert page.locator("#table-shares tbody tr").count() == 1
    shot(page, "analytics-03-circle-breakdowns")
