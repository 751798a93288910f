"""The async front's read of a sale's item: buyers in flight when the process's copy is
missing or a second old share one read (a sale's start is every buyer at once)."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connections

from quanzi.core.errors import NotFound
from quanzi.flash import services
from quanzi.flash.models import FlashItem

pytestmark = pytest.mark.django_db


def _counting_reader():
    calls = []
    # In an async context Django opens a connection of its own: the read uses the
    # test's, whose transaction holds the sale.
    test_connection = connections["default"]

    async def run_sync(fn, *args, **kwargs):
        calls.append(args)
        await asyncio.sleep(0.05)  # the read takes a while on the front's thread
        connections["default"] = test_connection
        return fn(*args, **kwargs)

    return run_sync, calls


def test_buyers_in_flight_share_one_read_of_the_item(no_gate, make_sale, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sale = make_sale(allotment=5)
    sku_id = sale["items"][0]["sku_id"]
    services.items_forget()
    run_sync, calls = _counting_reader()

    async def many():
        return await asyncio.gather(
            *(services._item_async(sale["id"], sku_id, run_sync) for _ in range(20))
        )

    items = asyncio.run(many())
    assert len(calls) == 1
    assert {item.pk for item in items} == {FlashItem.objects.get(sale_id=sale["id"]).pk}
    assert services._loading == {}
    # The copy now serves without a read; once forgotten, the next buyer reads again.
    asyncio.run(services._item_async(sale["id"], sku_id, run_sync))
    assert len(calls) == 1
    services.items_forget()
    asyncio.run(services._item_async(sale["id"], sku_id, run_sync))
    assert len(calls) == 2


def test_a_sale_that_does_not_exist_is_each_waiters_404(no_gate, make_sale, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sale = make_sale(allotment=5)
    sku_id = sale["items"][0]["sku_id"]
    run_sync, calls = _counting_reader()

    async def many():
        return await asyncio.gather(
            *(services._item_async(sale["id"] + 1000, sku_id, run_sync) for _ in range(5)),
            return_exceptions=True,
        )

    answers = asyncio.run(many())
    assert len(calls) == 1
    assert all(isinstance(a, NotFound) and a.code == "flash_sale_not_found" for a in answers)
    assert services._loading == {}
