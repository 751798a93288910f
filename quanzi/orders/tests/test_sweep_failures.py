"""One order that fails in a sweep is logged with its id and skipped: the orders after
it are still cancelled, confirmed and settled in the same run, and the failing one is
tried once per run, never again and again within it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.orders import channels, jobs
from quanzi.orders.channels import OrderObserver
from quanzi.orders.models import Order
from quanzi.orders.services import orders_auto_confirm, orders_expire_unpaid


class Broken(Exception):
    pass


@pytest.fixture
def break_on(monkeypatch):
    """Make one observer hook raise for one order; returns the list of its calls."""

    def install(hook: str, order_id: int) -> list[int]:
        calls: list[int] = []

        def fail(self, order, *args):
            if order.pk == order_id:
                calls.append(order.pk)
                raise Broken(order.pk)

        observer = type("FailsOnOne", (OrderObserver,), {hook: fail})()
        monkeypatch.setattr(channels, "_observers", [*channels._observers, observer])
        return calls

    return install


def failures_logged(caplog) -> list[int]:
    return [r.order_id for r in caplog.records if r.levelname == "ERROR" and hasattr(r, "order_id")]


def test_an_order_that_cannot_be_cancelled_does_not_stop_the_payment_timeout_sweep(
    caplog, break_on, customer, buy, sku
):
    ids = [buy(customer, sku, pay=False)["id"] for _ in range(3)]
    break_on("on_cancelled", ids[0])

    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 2

    status = dict(Order.objects.values_list("pk", "status"))
    assert status == {ids[0]: "pending_payment", ids[1]: "cancelled", ids[2]: "cancelled"}
    assert failures_logged(caplog) == [ids[0]]


def test_an_order_that_cannot_be_confirmed_does_not_stop_auto_confirm(
    caplog, break_on, customer, buy, sku
):
    ids = [buy(customer, sku)["id"] for _ in range(3)]
    Order.objects.update(status="shipped", shipped_at=timezone.now() - timedelta(days=30))
    break_on("on_completed", ids[1])

    assert orders_auto_confirm() == 2

    status = dict(Order.objects.values_list("pk", "status"))
    assert status == {ids[0]: "completed", ids[1]: "shipped", ids[2]: "completed"}
    assert failures_logged(caplog) == [ids[1]]


def test_a_run_drains_past_a_failing_order_and_tries_it_once(
    monkeypatch, caplog, break_on, customer, buy, sku
):
    ids = [buy(customer, sku, pay=False)["id"] for _ in range(4)]
    Order.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    calls = break_on("on_cancelled", ids[0])
    monkeypatch.setattr(jobs, "BATCH", 1)  # a backlog of four batches, the first one failing

    assert jobs.expire_unpaid() == 3

    assert calls == [ids[0]]  # tried once in the run, not in a loop
    assert Order.objects.filter(status="cancelled").count() == 3
    assert failures_logged(caplog) == [ids[0]]

    # The next run tries it again (once), and still cancels nothing twice.
    assert jobs.expire_unpaid() == 0
    assert calls == [ids[0], ids[0]]


def test_a_batch_full_of_failing_orders_does_not_hide_the_orders_after_it(
    monkeypatch, break_on, customer, buy, sku
):
    ids = [buy(customer, sku)["id"] for _ in range(3)]
    past = timezone.now() - timedelta(days=1)
    Order.objects.update(status="completed", completed_at=past, after_sales_ends_at=past)
    break_on("on_settled", ids[0])
    monkeypatch.setattr(jobs, "SETTLE_BATCH", 1)

    assert jobs.settle_due() == 2
    assert set(Order.objects.filter(settled_at__isnull=True).values_list("pk", flat=True)) == {
        ids[0]
    }
