"""Real parallel clients on PostgreSQL: many buyers on the last wave stock, one buyer
racing its own limit, and orders racing the sweep that closes the wave at its cutoff."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.community import sweeps
from quanzi.community.models import CommunityOrder, WaveItem, WaveQuota
from quanzi.core.testing import race
from quanzi.orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def _body(wave, point_id, sku, qty=1):
    return {
        "channel": "community",
        "wave_id": wave["id"],
        "pickup_point_id": point_id,
        "items": [{"sku_id": sku.pk, "qty": qty}],
    }


def _status(api, body):
    return lambda: api.post("/orders", body).status_code


def test_32_buyers_on_10_units_never_oversell(leader, make_user, make_wave, veg):
    wave = make_wave([{"sku_id": veg.pk, "price": 390, "stock": 10}])
    buyers = [make_user() for _ in range(32)]
    results = race([_status(b.api, _body(wave, leader.point_id, veg)) for b in buyers])
    assert Counter(results) == Counter({201: 10, 409: 22})
    item = WaveItem.objects.get(wave_id=wave["id"])
    assert (item.remaining, item.sold) == (0, 10)
    assert Order.objects.filter(channel="community").count() == 10
    assert CommunityOrder.objects.count() == 10
    assert SKU.objects.get(pk=veg.pk).stock == 90


def test_one_buyer_racing_its_own_limit(leader, customer, make_wave, veg):
    wave = make_wave([{"sku_id": veg.pk, "price": 390, "stock": 50, "per_user_limit": 3}])
    results = race([_status(customer.api, _body(wave, leader.point_id, veg)) for _ in range(8)])
    assert Counter(results) == Counter({201: 3, 409: 5})
    assert WaveQuota.objects.get(user=customer).units == 3


def test_orders_racing_the_cutoff_sweep(leader, make_user, make_wave, veg, monkeypatch):
    """Buyers and the closing sweep start together around the cutoff: every order that
    got in is counted as sold, every unit not sold is back on the shelf, none twice."""
    wave = make_wave(
        [{"sku_id": veg.pk, "price": 390, "stock": 30}],
        cutoff=timezone.now() + timedelta(hours=1),
    )
    cutoff = datetime.fromisoformat(wave["cutoff_at"])
    # Buyers stand one second before the cutoff; the sweep at the cutoff.
    monkeypatch.setattr("quanzi.community.clock.now", lambda: cutoff - timedelta(seconds=1))
    buyers = [make_user() for _ in range(12)]
    calls = [_status(b.api, _body(wave, leader.point_id, veg)) for b in buyers]
    calls.insert(6, lambda: sweeps.waves_close_due(now=cutoff))
    results = race(calls)
    placed = results.count(201)
    assert results.count(409) == 12 - placed  # wave_closed for those after the sweep
    item = WaveItem.objects.get(wave_id=wave["id"])
    assert (item.remaining, item.sold, item.returned) == (0, placed, 30 - placed)
    assert SKU.objects.get(pk=veg.pk).stock == 100 - placed
    assert Order.objects.filter(channel="community").count() == placed


def test_one_code_verified_twice_at_once_completes_once(leader, customer, make_wave, veg, shop):
    from quanzi.community import pickups
    from quanzi.community.models import Wave

    wave = make_wave([{"sku_id": veg.pk, "price": 390, "stock": 5}])
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    Wave.objects.filter(pk=wave["id"]).update(cutoff_at=timezone.now() - timedelta(seconds=1))
    sweeps.waves_close_due()
    leader.api.post(f"/community/points/{leader.point_id}/arrivals", {"wave_id": wave["id"]})
    code = order["pickup"]["code"]

    def verify():
        return pickups.pickup_verify(user=leader, point_id=leader.point_id, code=code).status

    results = race([verify, verify, verify])
    assert sorted(results) == ["completed", "pickup_code_used", "pickup_code_used"]
    assert Order.objects.get(pk=order["id"]).status == "completed"
