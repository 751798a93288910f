"""The landing page of a partner arrival, checkout at the partner price, and the
operator's pages."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from quanzi.orders.models import Order
from quanzi.partners.models import PartnerMember, PartnerOrder

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_a_visitor_arrives_confirms_sees_the_level_prices_and_buys_at_the_partner_price(
    bank, priced, token, make_address
):
    client = _client()
    link = f"/p/bank?token={token(level='gold', uid='web-1')}"
    page = client.get(link).content.decode()
    assert 'id="partner-confirm"' in page and "某某银行" in page
    assert PartnerMember.objects.count() == 0  # opening the link changes nothing
    form_token = link.split("token=")[1]
    answer = client.post("/p/bank", {"token": form_token}, follow=True)
    page = answer.content.decode()
    assert "金卡" in page and "¥18.00" in page
    member = PartnerMember.objects.get(uid="web-1")
    assert answer.context["user"].pk == member.user_id
    # replaying the same link is refused with a message
    again = client.post("/p/bank", {"token": form_token}, follow=True).content.decode()
    assert "已被使用" in again or "used" in again

    make_address(member.user)
    client.post("/p/bank/buy", {"sku_id": priced["rice"].pk})
    checkout = client.get("/checkout/").content.decode()
    assert "<small>¥</small>18<small>.00</small>" in checkout
    address_id = member.user.addresses.get().pk
    placed = client.post("/checkout/", {"address_id": address_id, "place": "1", "points": 0})
    assert placed.status_code == 302
    order = Order.objects.get(user_id=member.user_id)
    assert order.channel == "partner" and order.lines.get().unit_price == 1800
    assert PartnerOrder.objects.get(order=order).uid == "web-1"


def test_a_product_page_is_not_taken_by_the_partner_landing(priced, bank):
    product_id = priced["rice"].product_id
    assert _client().get(f"/p/{product_id}").status_code == 200
    assert _client().get("/p/nobody").status_code == 404


def test_the_operator_manages_a_partner_and_reads_its_report(bank, priced, operator, token):
    client = _client(operator)
    assert "某某银行" in client.get("/dashboard/partners/").content.decode()
    client.post("/dashboard/partners/", {"name": "某某通信", "code": "carrier"})
    assert "某某通信" in client.get("/dashboard/partners/").content.decode()
    page = client.get(f"/dashboard/partners/{bank.pk}/").content.decode()
    assert "白金卡" in page and "¥16.00" in page
    client.post(
        f"/dashboard/partners/{bank.pk}/levels/", {"code": "black", "name": "黑金卡", "rank": 3}
    )
    assert bank.levels.filter(code="black").exists()
    client.post(
        f"/dashboard/partners/{bank.pk}/keys/",
        {"kind": "hmac", "secret": "x" * 40, "overlap_hours": 2},
    )
    assert list(bank.keys.values_list("status", flat=True).order_by("id")) == [
        "previous",
        "current",
    ]
    report = client.get(f"/dashboard/partners/{bank.pk}/report/")
    assert report.status_code == 200 and 'id="partner-report"' in report.content.decode()
    download = client.get(f"/dashboard/partners/{bank.pk}/report.csv")
    assert download["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(download.content.decode())))[0] == "order_no"
    assert _client().get("/dashboard/partners/").status_code in (302, 403)
