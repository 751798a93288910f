"""A settlement chunk that fails is redone one order per transaction: the failing order
is logged and skipped, every other due order is settled, and the ledger stays whole."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import JournalEntry
from quanzi.orders import channels
from quanzi.orders.channels import OrderObserver
from quanzi.orders.models import Order
from quanzi.orders.services import orders_settle_due


class Broken(Exception):
    pass


def test_a_failing_order_is_skipped_and_the_others_are_settled(
    monkeypatch, caplog, customer, buy, sku
):
    ids = [buy(customer, sku)["id"] for _ in range(3)]
    past = timezone.now() - timedelta(days=1)
    Order.objects.update(status="completed", completed_at=past, after_sales_ends_at=past)
    failing = ids[1]

    class FailsOnOne(OrderObserver):
        def on_settled(self, order):
            if order.pk == failing:
                raise Broken(order.pk)

    observers = list(channels._observers)
    monkeypatch.setattr(channels, "_observers", [*observers, FailsOnOne()])
    assert orders_settle_due() == 2
    settled = set(Order.objects.filter(settled_at__isnull=False).values_list("pk", flat=True))
    assert settled == {ids[0], ids[2]}
    assert set(
        JournalEntry.objects.filter(kind="settlement").values_list("order_id", flat=True)
    ) == {ids[0], ids[2]}
    logged = [r.order_id for r in caplog.records if r.levelname == "ERROR"]
    assert logged == [failing]
    assert run_checks()[0] == []

    monkeypatch.setattr(channels, "_observers", observers)  # mended
    assert orders_settle_due() == 1
    assert not Order.objects.filter(settled_at__isnull=True).exists()
    assert run_checks()[0] == []
