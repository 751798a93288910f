"""Query counts of the hot paths, pinned: checkout, payment, settlement, list endpoints.

A query more on these paths is a cost paid on every order of a flash sale
(bench/checkout.py measures it). Two kinds of pins:

* the **core pipeline** with every feature observer and pricing hook detached: exact
  budgets for placing, paying and capturing an order and for settling one;
* no query per extra line beyond the one conditional stock update (placement) each line
  needs (the products' sales counters move in one statement at payment);
* the checkout with **every installed app** observing it (distribution, membership,
  risk signals, creator attribution, recommendations…): exact budgets too, since each
  observer's statement is paid on every order;
* list endpoints, with every installed app, whose query count does not grow with the
  number of rows (no N+1).

In tests every transaction is a savepoint inside the test's own, so a production
BEGIN/COMMIT pair shows here as SAVEPOINT/RELEASE: the counts are the same.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quanzi.orders.models import Order

# Budgets of the core pipeline (observers and pricing hooks detached).
PLACE = 9  # auth, SKU, address, stock, order, line, key record, tx (no read-back)
PAY = 8  # auth, lock order, open payment?, payment, event, key record, tx
CHECKOUT = 11  # place and start paying in one request: PLACE + payment, event
CAPTURE = 17  # sandbox: auth, payment, its own record; capture: locks, order, events, ledger
NOTIFY = 12  # a gateway's notification: the capture alone
# Settling a chunk of due orders, whatever its size: BEGIN, lock, lines, entries, postings,
# settled_at, COMMIT.
SETTLE_PER_CHUNK = 7


@pytest.fixture
def core_only(monkeypatch):
    """The order pipeline alone: no feature observer, no pricing hook."""
    from quanzi.orders import channels
    from quanzi.orders.hooks import pricing_hooks

    monkeypatch.setattr(channels, "_observers", [])
    for hook in ("member_terms", "coupon", "points"):
        monkeypatch.setattr(pricing_hooks, hook, None)


def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        answer = call()
    return len(ctx.captured_queries), answer


def _items(skus, qty=1):
    return [{"sku_id": s.pk, "qty": qty} for s in skus]


def _checkout(user, address, skus, key: str | None):
    """Place, pay and capture through the API; the number of queries of each step."""
    headers = {"Idempotency-Key": key} if key else {}
    n_place, placed = _count(
        lambda: user.api.post(
            "/orders", {"items": _items(skus), "address_id": address.pk}, headers=headers
        )
    )
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    pay_headers = {"Idempotency-Key": key + "-pay"} if key else {}
    n_pay, pay = _count(
        lambda: user.api.post(
            f"/orders/{order_id}/pay", {"gateway": "sandbox"}, headers=pay_headers
        )
    )
    assert pay.status_code == 200, pay.content
    n_capture, done = _count(
        lambda: user.api.post(f"/payments/sandbox/{pay.json()['payment_id']}/complete")
    )
    assert done.status_code == 200, done.content
    assert Order.objects.get(pk=order_id).status == "to_ship"
    return n_place, n_pay, n_capture


def _products(make_product, n, **kw):
    return [make_product(title=f"商品 {i}", **kw).skus.get() for i in range(n)]


def test_core_checkout_stays_within_its_query_budget(core_only, customer, make_address, sku):
    address = make_address(customer)
    _checkout(customer, address, [sku], "warm-up")  # ledger account ids are cached per process
    assert _checkout(customer, address, [sku], "order-1") == (PLACE, PAY, CAPTURE)
    # Without Idempotency-Key: no record; the service's own transaction remains.
    place, pay, capture = _checkout(customer, address, [sku], None)
    assert (place, pay, capture) == (PLACE - 1, PAY - 1, CAPTURE)


def test_checkout_and_pay_in_one_request_costs_two_statements_more_than_placing(
    core_only, customer, make_address, sku
):
    address = make_address(customer)
    _checkout(customer, address, [sku], "warm-up")
    body = {"items": _items([sku]), "address_id": address.pk, "pay": {"gateway": "sandbox"}}
    n, placed = _count(lambda: customer.api.post("/orders", body, headers={"Idempotency-Key": "k"}))
    assert placed.status_code == 201, placed.content
    assert n == CHECKOUT
    payment_id = placed.json()["payment"]["payment_id"]
    n, done = _count(lambda: customer.api.post(f"/payments/sandbox/{payment_id}/complete"))
    assert done.status_code == 200 and n == CAPTURE
    assert Order.objects.get(pk=placed.json()["id"]).status == "to_ship"


def test_a_gateway_notification_costs_only_the_capture(core_only, customer, make_address, sku):
    from quanzi.payments.gateways import get_gateway

    address = make_address(customer)
    _checkout(customer, address, [sku], "warm-up")
    order = customer.api.post("/orders", {"items": _items([sku]), "address_id": address.pk})
    pay = customer.api.post(f"/orders/{order.json()['id']}/pay", {"gateway": "sandbox"}).json()
    from quanzi.payments.models import Payment

    payment = Payment.objects.get(pk=pay["payment_id"])
    note = get_gateway("sandbox").build_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount
    )
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in note["headers"].items()}
    n, answer = _count(
        lambda: customer.api.client.post(
            "/api/v1/payments/notify/sandbox",
            data=note["body"],
            content_type="application/json",
            **headers,
        )
    )
    assert answer.status_code == 200, answer.content
    assert n == NOTIFY
    # The same notification again changes nothing and costs less.
    again, answer = _count(
        lambda: customer.api.client.post(
            "/api/v1/payments/notify/sandbox",
            data=note["body"],
            content_type="application/json",
            **headers,
        )
    )
    assert answer.status_code == 200 and again < NOTIFY


def test_no_query_per_line_beyond_stock_and_sales(core_only, customer, make_address, make_product):
    """A 5-line order costs what a 1-line order costs, plus one conditional stock update
    per line at placement; payment adds every product's sales in one statement."""
    address = make_address(customer)
    skus = _products(make_product, 6)
    _checkout(customer, address, skus[:1], "warm-up")
    one = _checkout(customer, address, skus[:1], "one")
    five = _checkout(customer, address, skus[1:6], "five")
    extra = 4
    assert five[0] - one[0] == extra, (one, five)  # UPDATE … SET stock = stock - n per SKU
    assert five[1] == one[1], (one, five)  # paying does not look at lines
    assert five[2] == one[2], (one, five)  # one UPDATE adds every product's sales


# Budgets with every installed app observing the order (a buyer with no upline, who
# opened no note). Placing and starting the payment: auth, SKUs with their products
# and covers, member terms, address, stock, order, line, payment, its event, key record,
# tx. The capture: auth, payment, the sandbox's record (a savepoint here: the test's
# transaction is open), tx, lock order, lock payment, lines, sales, upline, growth entry,
# growth, risk signals (one upsert), note touches (one EXISTS), order, its events,
# payment, its event, journal entry, postings; then the recommendations' event and
# stored list, after commit. (bench/checkout.py's server serves auth from the token
# cache and records the charge outside a transaction: 11 and 21.)
CHECKOUT_ALL = 12
CAPTURE_ALL = 24


def test_checkout_with_every_app_observing_stays_within_its_budget(customer, make_address, sku):
    address = make_address(customer)
    body = {"items": _items([sku]), "address_id": address.pk, "pay": {"gateway": "sandbox"}}

    def checkout(key):
        n, placed = _count(
            lambda: customer.api.post("/orders", body, headers={"Idempotency-Key": key})
        )
        assert placed.status_code == 201, placed.content
        payment_id = placed.json()["payment"]["payment_id"]
        m, done = _count(lambda: customer.api.post(f"/payments/sandbox/{payment_id}/complete"))
        assert done.status_code == 200, done.content
        assert Order.objects.get(pk=placed.json()["id"]).status == "to_ship"
        return n, m

    checkout("warm-up")  # ledger account ids, the token cache
    assert checkout("order-1") == (CHECKOUT_ALL, CAPTURE_ALL)


def test_product_list_does_not_grow_with_its_rows(anon, make_product):
    _products(make_product, 3)
    few, answer = _count(lambda: anon.get("/products"))
    assert answer.status_code == 200 and len(answer.json()["items"]) == 3
    _products(make_product, 12, images=["/static/a.jpg", "/static/b.jpg"])
    many, answer = _count(lambda: anon.get("/products"))
    assert len(answer.json()["items"]) == 15
    assert many == few <= 3


def test_order_list_does_not_grow_with_its_rows(customer, make_address, make_product):
    address = make_address(customer)
    skus = _products(make_product, 3)
    customer.api.post("/orders", {"items": _items(skus), "address_id": address.pk})
    few, answer = _count(lambda: customer.api.get("/orders"))
    assert answer.status_code == 200 and len(answer.json()["items"]) == 1
    for _ in range(7):
        customer.api.post("/orders", {"items": _items(skus), "address_id": address.pk})
    many, answer = _count(lambda: customer.api.get("/orders"))
    assert len(answer.json()["items"]) == 8
    assert all(len(item["lines"]) == 3 for item in answer.json()["items"])
    assert many == few <= 3


def test_settlement_costs_the_same_queries_for_3_orders_or_30(
    core_only, customer, make_address, make_product
):
    from quanzi.orders.services import orders_settle_due

    address = make_address(customer)
    sku = make_product(stock=100).skus.get()
    for i in range(34):
        _checkout(customer, address, [sku], f"order-{i}")
    past = timezone.now() - timedelta(days=1)
    Order.objects.update(status="completed", completed_at=past, after_sales_ends_at=past)
    orders_settle_due(batch=1)  # warm-up: the revenue and supplier accounts get their ids
    few, settled_few = _count(lambda: orders_settle_due(batch=3))
    many, settled_many = _count(lambda: orders_settle_due(batch=30))
    assert (settled_few, settled_many) == (3, 30)
    # The due ids, then one chunk (one transaction) of a fixed number of statements.
    assert few == many == 1 + SETTLE_PER_CHUNK, (few, many)
    assert not Order.objects.filter(settled_at__isnull=True).exists()


def test_settings_are_read_once_then_served_from_the_cache(db):
    from quanzi.core.platform_settings import get_settings

    get_settings()
    n, settings = _count(get_settings)
    assert n == 0 and settings.payment_timeout_seconds == 900


def test_a_settings_change_is_seen_at_once_and_forgotten_when_rolled_back(db):
    from django.db import transaction

    from quanzi.core.platform_settings import get_settings, settings_update

    assert get_settings().payment_timeout_seconds == 900
    with pytest.raises(RuntimeError), transaction.atomic():
        settings_update(patch={"payment_timeout_seconds": 600})
        assert get_settings().payment_timeout_seconds == 600
        raise RuntimeError("the change is rolled back")
    assert get_settings().payment_timeout_seconds == 900
    settings_update(patch={"payment_timeout_seconds": 300})
    assert get_settings().payment_timeout_seconds == 300
