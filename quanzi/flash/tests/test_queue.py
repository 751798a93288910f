"""The gate in queue mode: the buyer's request answers 202 with a ticket, a writer writes
the orders in batches, the buyer polls the ticket. Units are never sold twice nor lost:
after a refused ticket, a killed writer, Redis losing its keys."""

from __future__ import annotations

import pytest

from quanzi.accounts.models import Address
from quanzi.flash import gate, writer
from quanzi.flash.models import FlashBucket, FlashItem, FlashOrder
from quanzi.flash.reconcile import reconcile
from quanzi.flash.tests.conftest import buy_body
from quanzi.ledger.checks import run_checks
from quanzi.orders.models import Order

pytestmark = pytest.mark.django_db


def _units(sale_id):
    item = FlashItem.objects.get(sale_id=sale_id)
    sold = sum(FlashOrder.objects.filter(item=item, returned=False).values_list("qty", flat=True))
    left = sum(FlashBucket.objects.filter(item=item).values_list("left", flat=True))
    return sold, left, item.returned


def _queue(sale, buyer, **extra):
    return buyer.api.post(f"/flash-sales/{sale['id']}/orders", buy_body(sale, buyer, **extra))


def _poll(buyer, ticket):
    return buyer.api.get(f"/flash-tickets/{ticket}")


def test_a_queued_ticket_becomes_an_order_the_buyer_pays(redis_queue, make_sale, make_buyer):
    sale = make_sale(allotment=3, limit=1, buckets=2)
    buyers = [make_buyer() for _ in range(4)]
    answers = [_queue(sale, b) for b in buyers]
    assert [a.status_code for a in answers] == [202, 202, 202, 409]
    assert answers[3].json()["code"] == "out_of_stock"
    for buyer, answer in zip(buyers[:3], answers[:3], strict=True):
        assert answer.json()["state"] == "queued"
        shown = _poll(buyer, answer.json()["ticket"]).json()
        assert shown["state"] == "ordered"
        assert shown["payable"] == 990
        paid = buyer.api.post(f"/orders/{shown['order_id']}/pay", {"gateway": "sandbox"})
        assert paid.status_code in (200, 201), paid.content
    assert _units(sale["id"]) == (3, 0, 0)
    item = FlashItem.objects.get(sale_id=sale["id"])
    assert gate.pending(item_id=item.pk) == {}
    assert gate.left(item_id=item.pk) == 0
    assert run_checks()[0] == []


def test_a_ticket_is_only_its_buyers_and_pay_waits_for_the_order(
    redis_queue_no_writer, make_sale, make_buyer
):
    sale = make_sale(allotment=5, limit=1)
    buyer, other = make_buyer(), make_buyer()
    ticket = _queue(sale, buyer).json()["ticket"]
    assert _poll(buyer, ticket).json() == {
        "ticket": ticket,
        "state": "queued",
        "order_id": None,
        "status": None,
        "payable": None,
        "pay_before": None,
        "code": None,
    }
    assert _poll(other, ticket).status_code == 404
    assert _poll(buyer, "junk").status_code == 404
    refused = _queue(sale, other, pay={"gateway": "sandbox"})
    assert (refused.status_code, refused.json()["code"]) == (422, "pay_after_queue")
    # The limit is the gate's: the same buyer again is refused before any order exists.
    again = _queue(sale, buyer)
    assert (again.status_code, again.json()["code"]) == (409, "limit_exceeded")
    assert Order.objects.filter(channel="flash").count() == 0


def test_the_writer_writes_a_batch_of_tickets_at_once(redis_queue_no_writer, make_sale, make_buyer):
    sale = make_sale(allotment=10, limit=1, buckets=4)
    buyers = [make_buyer() for _ in range(6)]
    tickets = [_queue(sale, b).json()["ticket"] for b in buyers]
    item = FlashItem.objects.get(sale_id=sale["id"])
    assert gate.queue(item_id=item.pk) == tickets
    assert writer.write_batch(item_id=item.pk, batch=100) == 6
    assert writer.write_batch(item_id=item.pk, batch=100) == 0
    orders = {fo.ticket: fo for fo in FlashOrder.objects.filter(item=item)}
    assert set(orders) == set(tickets)
    for buyer, ticket in zip(buyers, tickets, strict=True):
        assert orders[ticket].user_id == buyer.pk
        assert _poll(buyer, ticket).json()["order_id"] == orders[ticket].order_id
    assert _units(sale["id"]) == (6, 4, 0)
    assert gate.left(item_id=item.pk) == 4


def test_a_refused_ticket_gives_its_units_back(redis_queue_no_writer, make_sale, make_buyer):
    sale = make_sale(allotment=2, limit=1, buckets=1)
    gone, kept = make_buyer(), make_buyer()
    t_gone = _queue(sale, gone).json()["ticket"]
    t_kept = _queue(sale, kept).json()["ticket"]
    Address.objects.filter(pk=gone.address_id).update(is_deleted=True)  # deleted meanwhile
    item = FlashItem.objects.get(sale_id=sale["id"])
    assert gate.left(item_id=item.pk) == 0
    assert writer.write_batch(item_id=item.pk) == 2
    assert _poll(gone, t_gone).json()["state"] == "refused"
    assert _poll(gone, t_gone).json()["code"] == "invalid_address"
    assert _poll(kept, t_kept).json()["state"] == "ordered"
    # The refused unit is for sale again, and the refused buyer may try again.
    assert gate.left(item_id=item.pk) == 1
    assert _units(sale["id"]) == (1, 1, 0)
    Address.objects.filter(pk=gone.address_id).update(is_deleted=False)
    assert _queue(sale, gone).status_code == 202


def test_a_killed_writer_loses_nothing(redis_queue_no_writer, make_sale, make_buyer):
    sale = make_sale(allotment=5, limit=1, buckets=2)
    buyers = [make_buyer() for _ in range(3)]
    tickets = [_queue(sale, b).json()["ticket"] for b in buyers]
    item = FlashItem.objects.get(sale_id=sale["id"])
    # A writer pops the tickets and is killed before its transaction commits.
    assert gate.pop(item_id=item.pk, count=100) == tickets
    assert Order.objects.filter(channel="flash").count() == 0
    assert reconcile(grace=3600).tickets_requeued == 0  # too young: maybe still writing
    assert gate.client().ttl(gate.keys(item.pk)[4]) <= gate.WRITER_TTL
    gate.client().delete(gate.keys(item.pk)[4])  # the dead writer's claim expired
    report = reconcile(grace=0)
    assert (report.tickets_requeued, report.tickets_written) == (3, 3)
    assert {fo.ticket for fo in FlashOrder.objects.filter(item=item)} == set(tickets)
    assert gate.pending(item_id=item.pk) == {}
    assert _units(sale["id"]) == (3, 2, 0)
    assert gate.left(item_id=item.pk) == 2
    again = reconcile(grace=0)
    assert (again.tickets_requeued, again.tickets_written, again.gate_corrections) == (0, 0, {})


def test_a_ticket_written_twice_makes_one_order(redis_queue_no_writer, make_sale, make_buyer):
    sale = make_sale(allotment=5, limit=0)
    buyer = make_buyer()
    ticket = _queue(sale, buyer).json()["ticket"]
    item = FlashItem.objects.get(sale_id=sale["id"])
    live = gate.tickets(item_id=item.pk, ticket_ids=[ticket])
    # A slow writer's batch and a requeued copy of the same ticket.
    gate.requeue(item_id=item.pk, ticket_ids=[ticket])
    writer._place(live[ticket], FlashItem.objects.select_related("sale").get(pk=item.pk), buyer)
    assert writer.write_batch(item_id=item.pk) == 2
    assert FlashOrder.objects.filter(ticket=ticket).count() == 1
    assert gate.pending(item_id=item.pk) == {}
    assert _units(sale["id"]) == (1, 4, 0)


def test_redis_losing_its_keys_loses_queued_tickets_but_no_unit(
    redis_queue_no_writer, make_sale, make_buyer
):
    sale = make_sale(allotment=4, limit=1, buckets=2)
    buyers = [make_buyer() for _ in range(3)]
    tickets = [_queue(sale, b).json()["ticket"] for b in buyers]
    item = FlashItem.objects.get(sale_id=sale["id"])
    writer.write_batch(item_id=item.pk, batch=1)  # one written before Redis restarts
    gate.drop(item_id=item.pk)  # Redis restarted without its data
    assert _poll(buyers[0], tickets[0]).json()["state"] == "ordered"
    assert _poll(buyers[1], tickets[1]).status_code == 404  # lost with Redis
    # Their units never left the buckets: the gate is rebuilt from the database.
    assert _units(sale["id"]) == (1, 3, 0)
    late = [make_buyer() for _ in range(4)] + buyers[1:]
    codes = [_queue(sale, b).status_code for b in late]
    assert codes.count(202) == 3
    while writer.write_batch(item_id=item.pk):
        pass
    assert _units(sale["id"]) == (4, 0, 0)
    reconcile(grace=0)
    assert gate.left(item_id=item.pk) == 0
    assert run_checks()[0] == []


def test_a_keyed_retry_replays_its_ticket_and_queues_no_second_one(
    redis_queue_no_writer, make_sale, make_buyer
):
    sale = make_sale(allotment=5, limit=0)  # no per-user limit to stop a second ticket
    buyer = make_buyer()
    headers = {"Idempotency-Key": "flash-retry-1"}
    path = f"/flash-sales/{sale['id']}/orders"
    first = buyer.api.post(path, buy_body(sale, buyer), headers=headers)
    again = buyer.api.post(path, buy_body(sale, buyer), headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    other = buyer.api.post(path, buy_body(sale, buyer, qty=2), headers=headers)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    item = FlashItem.objects.get(sale_id=sale["id"])
    assert gate.queue(item_id=item.pk) == [first.json()["ticket"]]
    assert gate.left(item_id=item.pk) == 4
    while writer.write_batch(item_id=item.pk):
        pass
    assert FlashOrder.objects.filter(item=item, user_id=buyer.pk).count() == 1
    assert _units(sale["id"]) == (1, 4, 0)
