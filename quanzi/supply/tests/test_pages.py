"""The supplier's page ships a line through its form; the operator's desk records a
payout; the customer's order page shows the parcel's events; the demo has a supplier."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.orders.models import Order
from quanzi.supply.models import Shipment, TrackingEvent
from quanzi.supply.tests.conftest import settle

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_supplier_ships_a_line_from_its_page(supplier, rival, customer, paid_order):
    order = paid_order(customer, [(supplier.sku, 1)])
    line = order.lines.get()
    page = logged_in(supplier).get("/supplier/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-line="{line.pk}"' in html and "顺丰速运" in html

    # Another supplier cannot ship it from its page either.
    logged_in(rival).post(
        f"/supplier/lines/{line.pk}/ship/", {"carrier": "SF", "tracking_no": "SF1234567890123"}
    )
    assert not Shipment.objects.exists()
    bad = logged_in(supplier).post(
        f"/supplier/lines/{line.pk}/ship/", {"carrier": "SF", "tracking_no": "123"}, follow=True
    )
    assert "运单号与快递公司不符" in bad.content.decode()
    logged_in(supplier).post(
        f"/supplier/lines/{line.pk}/ship/", {"carrier": "SF", "tracking_no": "SF1234567890123"}
    )
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert logged_in(customer).get("/supplier/").status_code == 404


def test_customer_order_page_shows_tracking_events(supplier, customer, paid_order):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    order = paid_order(customer, [(supplier.sku, 1)])
    logged_in(supplier).post(
        f"/supplier/lines/{order.lines.get().pk}/ship/",
        {"carrier": "SF", "tracking_no": "SF1234567890123"},
    )
    parcel = Shipment.objects.get()
    TrackingEvent.objects.create(
        shipment=parcel,
        time=datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        status="in_transit",
        location="浙江,杭州市",
        text="快件已发车",
    )
    html = logged_in(customer).get(f"/orders/{order.pk}/").content.decode()
    assert 'id="tracking"' in html and "快件已发车" in html and "SF1234567890123" in html


def test_operator_records_a_payout_on_the_desk(supplier, customer, operator, paid_order):
    order = paid_order(customer, [(supplier.sku, 1)])
    supplier.api.post(
        f"/supplier/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"}
    )
    settle(order)
    desk = logged_in(operator)
    assert supplier.supplier.name in desk.get("/dashboard/supply/").content.decode()
    desk.post(
        f"/dashboard/supply/{supplier.supplier.pk}/payouts/",
        {"amount": "5.50", "reference": "BANK-1"},
    )
    assert supplier.api.get("/supplier/me").json()["owed"] == 1200 - 550
    assert logged_in(supplier).get("/dashboard/supply/").status_code in (302, 403)


def test_demo_supplier_has_lines_to_ship(db):
    from quanzi.accounts.models import User
    from quanzi.core.demo import demo_load
    from quanzi.supply.demo import DEMO_SUPPLIER

    assert demo_load()
    user = User.objects.get(phone=DEMO_SUPPLIER[0])
    client = Client()
    assert client.login(phone=DEMO_SUPPLIER[0], password=DEMO_SUPPLIER[1])
    page = client.get("/supplier/").content.decode()
    assert user.is_supplier and page.count('class="line-to-ship"') == 2
