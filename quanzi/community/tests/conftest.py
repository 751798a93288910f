"""Fixtures for community group buying: leaders with points, a wave made through the API,
a clock the tests can stand still, and a ``shop`` that orders and pays like a client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.storefront.tests.browser import browser, new_phone  # noqa: F401 - fixtures

# Hangzhou: two points a few hundred metres apart, one across town.
XIHU = (30.2780, 120.1330)
CUIYUAN = (30.2890, 120.1260)
BINJIANG = (30.2080, 120.2110)


class Clock:
    """``quanzi.community.clock.now``, pinned when a test sets ``at``."""

    def __init__(self):
        self.at = None

    def __call__(self):
        return self.at or timezone.now()


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr("quanzi.community.clock.now", c)
    return c


@pytest.fixture
def make_leader(make_user, operator):
    def make(*, name="幸福里便利店", at=XIHU, area="西湖区", nickname="王阿姨"):
        user = make_user(nickname=nickname)
        body = {
            "point": {
                "name": name,
                "address": "文三路 88 号",
                "lat": at[0],
                "lng": at[1],
                "hours": "08:00-21:00",
                "area": area,
                "capacity": 100,
            }
        }
        applied = user.api.post("/community/leader-applications", body)
        assert applied.status_code == 201, applied.content
        assert applied.json()["status"] == "pending"
        approved = operator.api.post(
            f"/admin/community/leader-applications/{applied.json()['id']}/approve"
        )
        assert approved.status_code == 200, approved.content
        user.refresh_from_db()
        user.leader_id = approved.json()["leader_id"]
        user.point_id = approved.json()["point_id"]
        return user

    return make


@pytest.fixture
def leader(make_leader):
    return make_leader()


@pytest.fixture
def veg(make_product):
    return make_product(title="本地小青菜 500g", price=590, supply_price=200, stock=100).skus.get()


@pytest.fixture
def eggs(make_product):
    return make_product(title="土鸡蛋 10 枚", price=1590, supply_price=700, stock=100).skus.get()


@pytest.fixture
def make_wave(operator):
    def make(items, *, cutoff=None, expect=201):
        cutoff = cutoff or timezone.now() + timedelta(hours=6)
        body = {
            "title": "今日鲜菜",
            "sale_date": timezone.localdate(cutoff).isoformat(),
            "cutoff_at": cutoff.isoformat(),
            "pickup_date": (timezone.localdate(cutoff) + timedelta(days=1)).isoformat(),
            "pickup_start": "09:00",
            "pickup_end": "20:00",
            "items": items,
        }
        response = operator.api.post("/admin/community/waves", body)
        assert response.status_code == expect, response.content
        return response.json()

    return make


@pytest.fixture
def wave(make_wave, veg, eggs):
    return make_wave(
        [
            {"sku_id": veg.pk, "price": 390, "stock": 20, "per_user_limit": 5},
            {"sku_id": eggs.pk, "price": 1290, "stock": 10},
        ]
    )


class Shop:
    def order(self, user, wave, point_id, items, *, expect=201, pay=True):
        body = {
            "channel": "community",
            "wave_id": wave["id"],
            "pickup_point_id": point_id,
            "items": [{"sku_id": s.pk, "qty": q} for s, q in items],
        }
        response = user.api.post("/orders", body)
        assert response.status_code == expect, response.content
        order = response.json()
        if expect != 201 or not pay:
            return order
        payment = user.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
        assert payment.status_code == 200, payment.content
        done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
        assert done.status_code == 200, done.content
        return user.api.get(f"/orders/{order['id']}").json()


@pytest.fixture
def shop():
    return Shop()
