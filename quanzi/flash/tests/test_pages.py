"""The storefront's flash sale page (countdown, sold out, buying) and the dashboard's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from quanzi.flash.models import FlashSale

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_scheduled_sale_counts_down_to_its_start(no_gate, make_sale):
    make_sale(starts_in=3600)
    page = Client().get("/flash/").content.decode()
    assert "距开抢" in page and 'class="countdown"' in page
    assert "未开始" in page and "马上抢" not in page


def test_buying_on_the_page_then_sold_out(no_gate, make_sale, make_buyer):
    sale = make_sale(allotment=1)
    buyer = make_buyer()
    sku_id = sale["items"][0]["sku_id"]
    answer = _client(buyer).post(f"/flash/{sale['id']}/{sku_id}/buy/")
    assert answer.status_code == 302 and answer["Location"].startswith("/orders/")
    page = Client().get("/flash/").content.decode()
    assert "已售罄" in page and "马上抢" not in page
    late = make_buyer()
    refused = _client(late).post(f"/flash/{sale['id']}/{sku_id}/buy/", follow=True)
    assert "已售罄。" in refused.content.decode()


def test_operator_creates_and_closes_a_sale(no_gate, operator, flash_sku):
    client = _client(operator)
    now = timezone.localtime()
    form = {
        "title": "午间秒杀",
        "starts_at": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
        "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "sku_id": flash_sku.pk,
        "price": 990,
        "allotment": 7,
        "per_user_limit": 1,
    }
    assert client.post("/dashboard/flash/", form).status_code == 302
    sale = FlashSale.objects.get(title="午间秒杀")
    page = client.get("/dashboard/flash/").content.decode()
    assert "午间秒杀" in page and "未开始" in page
    client.post(f"/dashboard/flash/{sale.pk}/close/")
    sale.refresh_from_db()
    assert sale.closed_at is not None
    assert "已结束" in client.get("/dashboard/flash/").content.decode()
    assert Client().get("/dashboard/flash/").status_code in (302, 403)
