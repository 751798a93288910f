"""Real parallel clients on PostgreSQL (each thread its own connection): the flood on a
few units, one buyer racing its own limit, Redis losing its keys mid-sale, and a request
that dies between the gate and its order."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.flash import gate
from quanzi.flash.models import FlashBucket, FlashItem, FlashOrder, FlashQuota
from quanzi.flash.reconcile import reconcile
from quanzi.flash.tests.conftest import buy_body
from quanzi.orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def _buy(sale, buyer, qty=1):
    return lambda: (
        buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer, qty)).status_code
    )


def _figures(sale):
    item = FlashItem.objects.get(sale_id=sale["id"])
    sold = sum(FlashOrder.objects.filter(item=item, returned=False).values_list("qty", flat=True))
    left = sum(FlashBucket.objects.filter(item=item).values_list("left", flat=True))
    return item, sold, left


@pytest.mark.parametrize("mode", ["redis_gate", "no_gate"])
def test_64_buyers_on_10_units_make_exactly_10_orders(mode, request, make_sale, make_buyer):
    request.getfixturevalue(mode)
    sale = make_sale(allotment=10, limit=1, buckets=4)
    buyers = [make_buyer() for _ in range(64)]
    results = race([_buy(sale, b) for b in buyers])
    assert Counter(results) == Counter({201: 10, 409: 54})
    item, sold, left = _figures(sale)
    assert (sold, left) == (10, 0)
    assert Order.objects.filter(channel="flash").count() == 10
    if mode == "redis_gate":
        assert gate.left(item_id=item.pk) == 0
        assert gate.pending(item_id=item.pk) == {}


@pytest.mark.parametrize("mode", ["redis_gate", "no_gate"])
def test_one_buyer_racing_its_own_limit(mode, request, make_sale, make_buyer):
    request.getfixturevalue(mode)
    sale = make_sale(allotment=50, limit=3)
    buyer = make_buyer()
    results = race([_buy(sale, buyer) for _ in range(10)])
    assert Counter(results) == Counter({201: 3, 409: 7})
    item, sold, left = _figures(sale)
    assert FlashQuota.objects.get(item=item, user=buyer).units == 3
    assert (sold, left) == (3, 47)


def test_redis_keys_flushed_mid_sale_are_rebuilt_and_never_oversell(
    redis_gate, make_sale, make_buyer
):
    sale = make_sale(allotment=10, limit=1, buckets=4)
    item = FlashItem.objects.get(sale_id=sale["id"])
    buyers = [make_buyer() for _ in range(40)]
    early = race([_buy(sale, b) for b in buyers[:6]])
    assert early.count(201) == 6
    calls = [_buy(sale, b) for b in buyers[6:]]
    flushes = [lambda: gate.drop(item_id=item.pk)] * 3
    calls[5:5], calls[15:15], calls[25:25] = flushes[:1], flushes[1:2], flushes[2:]
    results = race(calls)
    # Exactly the 4 units left were sold, whatever the gate believed after each flush.
    assert results.count(201) == 4
    item, sold, left = _figures(sale)
    assert (sold, left) == (10, 0)
    assert Order.objects.filter(channel="flash").count() == 10
    # The reconciler brings the gate back to the database's figures.
    reconcile(grace=0)
    assert gate.left(item_id=item.pk) in (None, 0)
    late = make_buyer()
    assert _buy(sale, late)() == 409
    assert gate.left(item_id=item.pk) == 0


def test_a_ticket_whose_order_was_never_written_comes_back(redis_gate, make_sale, make_buyer):
    sale = make_sale(allotment=10, limit=0, buckets=4)
    item = FlashItem.objects.get(sale_id=sale["id"])
    ghost = make_buyer()
    assert _buy(sale, ghost)() == 201  # loads the gate
    # A request passes the gate for 3 units and dies before its order is written.
    ticket = gate.take(item_id=item.pk, user_id=ghost.pk, qty=3, limit=0)
    assert isinstance(ticket, gate.Ticket)
    assert gate.left(item_id=item.pk) == 6
    buyers = [make_buyer() for _ in range(12)]
    assert Counter(race([_buy(sale, b) for b in buyers])) == Counter({201: 6, 409: 6})
    reconcile(grace=3600)  # too young: left alone
    assert ticket.id in gate.pending(item_id=item.pk)
    report = reconcile(grace=0)
    assert report.tickets_returned == 1
    assert gate.left(item_id=item.pk) == 3
    # The 3 units sell again; nothing more.
    more = [make_buyer() for _ in range(8)]
    assert Counter(race([_buy(sale, b) for b in more])) == Counter({201: 3, 409: 5})
    item, sold, left = _figures(sale)
    assert (sold, left) == (10, 0)
    # Running it again changes nothing (idempotent).
    again = reconcile(grace=0)
    assert (again.tickets_returned, again.gate_corrections) == (0, {})


def test_unpaid_orders_return_their_units_through_the_reconciler(redis_gate, make_sale, make_buyer):
    from datetime import timedelta

    from django.utils import timezone

    sale = make_sale(allotment=4, limit=1)
    buyers = [make_buyer() for _ in range(4)]
    assert race([_buy(sale, b) for b in buyers]) == [201] * 4
    Order.objects.filter(channel="flash").update(expires_at=timezone.now() - timedelta(seconds=1))
    report = reconcile(grace=0)
    assert report.orders_cancelled == 4
    item, sold, left = _figures(sale)
    assert (sold, left) == (0, 4)
    assert gate.left(item_id=item.pk) == 4
    others = [make_buyer() for _ in range(6)]
    assert Counter(race([_buy(sale, b) for b in others])) == Counter({201: 4, 409: 2})


# --- the queue mode: 202 tickets, writers writing batches -------------------------------


def _queue(sale, buyer, qty=1):
    def call():
        answer = buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer, qty))
        return answer.status_code, (
            answer.json().get("ticket") if answer.status_code == 202 else None
        )

    return call


def _write_all(item_id):
    from quanzi.flash import writer

    return lambda: writer.drain(item_id=item_id, batch=7, seconds=30)


def test_queued_flood_with_two_writers_sells_exactly_the_allotment(
    redis_queue_no_writer, make_sale, make_buyer
):
    sale = make_sale(allotment=20, limit=1, buckets=4)
    item = FlashItem.objects.get(sale_id=sale["id"])
    buyers = [make_buyer() for _ in range(48)]
    results = race([_queue(sale, b) for b in buyers])
    assert Counter(code for code, _ in results) == Counter({202: 20, 409: 28})
    tickets = {t for _, t in results if t}
    # Two writers (a Celery worker and the reconciler's drain, say) on the same queue.
    race([_write_all(item.pk), _write_all(item.pk)])
    assert {fo.ticket for fo in FlashOrder.objects.filter(item=item)} == tickets
    item, sold, left = _figures(sale)
    assert (sold, left) == (20, 0)
    assert Order.objects.filter(channel="flash").count() == 20
    assert gate.pending(item_id=item.pk) == {}
    assert gate.left(item_id=item.pk) == 0


def test_buyers_racing_while_a_writer_writes_and_redis_is_flushed(
    redis_queue_no_writer, make_sale, make_buyer
):
    sale = make_sale(allotment=12, limit=1, buckets=4)
    item = FlashItem.objects.get(sale_id=sale["id"])
    buyers = [make_buyer() for _ in range(40)]
    calls = [_queue(sale, b) for b in buyers]
    calls[10:10] = [_write_all(item.pk)]
    calls[20:20] = [lambda: gate.drop(item_id=item.pk)]  # Redis restarted, queue lost
    calls[30:30] = [_write_all(item.pk)]
    race(calls)
    _write_all(item.pk)()
    reconcile(grace=0)
    item, sold, left = _figures(sale)
    # Whatever was lost with Redis, units are conserved and none is sold twice.
    assert sold + left == 12
    assert sold == FlashOrder.objects.filter(item=item, returned=False).count()
    assert gate.left(item_id=item.pk) == left - sum(
        q for _, q, _ in gate.pending(item_id=item.pk).values()
    )
    # The units left sell to late buyers until the buckets are empty.
    late = [make_buyer() for _ in range(left + 3)]
    codes = Counter(code for code, _ in race([_queue(sale, b) for b in late]))
    assert codes[202] == left
    _write_all(item.pk)()
    item, sold, left = _figures(sale)
    assert (sold, left) == (12, 0)


def test_a_writer_killed_mid_batch_loses_nothing(redis_queue_no_writer, make_sale, make_buyer):
    import multiprocessing
    import os
    import signal
    import time

    sale = make_sale(allotment=10, limit=1, buckets=2)
    item = FlashItem.objects.get(sale_id=sale["id"])
    buyers = [make_buyer() for _ in range(10)]
    assert Counter(c for c, _ in race([_queue(sale, b) for b in buyers])) == Counter({202: 10})
    # A writer process pops the tickets, starts its transaction, and is killed (SIGKILL)
    # before committing.
    ready = multiprocessing.get_context("fork").Event()

    def doomed():
        from django import db

        db.connections.close_all()
        from quanzi.flash import writer

        real = writer._place

        def slow(*args, **kwargs):
            real(*args, **kwargs)
            ready.set()
            time.sleep(60)

        writer._place = slow
        writer.write_batch(item_id=item.pk, batch=100)

    connection.close()
    proc = multiprocessing.get_context("fork").Process(target=doomed)
    proc.start()
    assert ready.wait(30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert gate.queue(item_id=item.pk) == []  # popped by the dead writer
    assert FlashOrder.objects.filter(item=item).count() == 0  # nothing committed
    gate.client().delete(gate.keys(item.pk)[4])  # its claim expired
    report = reconcile(grace=0)
    assert (report.tickets_requeued, report.tickets_written) == (10, 10)
    item, sold, left = _figures(sale)
    assert (sold, left) == (10, 0)
    assert gate.pending(item_id=item.pk) == {}
