"""Idempotency-Key: same key + same body → the first answer; different body → 409."""

from quanzi.catalog.models import SKU
from quanzi.orders.models import Order


def test_same_key_same_body_returns_the_first_order(customer, sku, make_address):
    address = make_address(customer)
    body = {"items": [{"sku_id": sku.pk, "qty": 2}], "address_id": address.pk}
    headers = {"Idempotency-Key": "order-abc-1"}
    first = customer.api.post("/orders", body, headers=headers)
    second = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1
    assert SKU.objects.get(pk=sku.pk).stock == 98


def test_same_key_different_body_is_409(customer, sku, make_address):
    address = make_address(customer)
    headers = {"Idempotency-Key": "order-abc-2"}
    customer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk},
        headers=headers,
    )
    response = customer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 5}], "address_id": address.pk},
        headers=headers,
    )
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_keys_are_per_user(customer, make_user, sku, make_address):
    other = make_user()
    headers = {"Idempotency-Key": "shared-key"}
    a = customer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": make_address(customer).pk},
        headers=headers,
    )
    b = other.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": make_address(other).pk},
        headers=headers,
    )
    assert a.json()["id"] != b.json()["id"]


def test_a_refusal_is_replayed_too(customer, make_product, make_address):
    sku = make_product(stock=1).skus.get()
    address = make_address(customer)
    headers = {"Idempotency-Key": "too-many"}
    body = {"items": [{"sku_id": sku.pk, "qty": 2}], "address_id": address.pk}
    first = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == 409 and first.json()["code"] == "out_of_stock"
    again = customer.api.post("/orders", body, headers=headers)
    assert again.status_code == 409 and again.json() == first.json()


def test_refund_and_pay_take_keys(customer, operator, sku, buy):
    order = buy(customer, sku, qty=2)
    headers = {"Idempotency-Key": "refund-1"}
    one = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}, headers=headers)
    two = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "x"}, headers=headers)
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]


def test_a_retry_after_the_last_unit_went_still_gets_the_first_order(
    customer, make_user, make_product, make_address
):
    """The key is not read before the work: a retry of an answered request redoes the
    work, is refused (sold out), and must still answer the first order, not 409."""
    sku = make_product(stock=1).skus.get()
    address = make_address(customer)
    body = {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    headers = {"Idempotency-Key": "last-unit"}
    first = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == 201
    again = customer.api.post("/orders", body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert Order.objects.count() == 1
    assert SKU.objects.get(pk=sku.pk).stock == 0
    # Someone else, without the key, is refused as before.
    other = make_user()
    refused = other.api.post(
        "/orders", {"items": body["items"], "address_id": make_address(other).pk}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "out_of_stock"


def test_a_retry_that_would_succeed_now_still_gets_the_first_refusal(
    customer, make_product, make_address
):
    sku = make_product(stock=0).skus.get()
    address = make_address(customer)
    body = {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    headers = {"Idempotency-Key": "refused-first"}
    first = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == 409 and first.json()["code"] == "out_of_stock"
    SKU.objects.filter(pk=sku.pk).update(stock=5, stock_received=5)  # restocked
    again = customer.api.post("/orders", body, headers=headers)
    assert again.status_code == 409 and again.json() == first.json()
    assert Order.objects.count() == 0
    assert SKU.objects.get(pk=sku.pk).stock == 5  # the redone work was rolled back
