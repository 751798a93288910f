"""Placing an order and starting its payment in one request (``POST /orders`` with
``pay``): one transaction, the same answers as the two requests it replaces."""

from quanzi.catalog.models import SKU
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.payments.models import Payment


def _body(sku, address, qty=1, gateway="sandbox"):
    return {
        "items": [{"sku_id": sku.pk, "qty": qty}],
        "address_id": address.pk,
        "pay": {"gateway": gateway},
    }


def test_one_request_places_and_starts_paying_then_the_sandbox_pays(customer, sku, make_address):
    address = make_address(customer)
    placed = customer.api.post("/orders", _body(sku, address, qty=2))
    assert placed.status_code == 201, placed.content
    answer = placed.json()
    assert answer["status"] == "pending_payment"
    payment = answer["payment"]
    assert payment["gateway"] == "sandbox" and payment["amount"] == answer["payable"] > 0
    assert payment["params"]["pay_url"].startswith("/pay/sandbox/")
    assert SKU.objects.get(pk=sku.pk).stock == 98

    done = customer.api.post(f"/payments/sandbox/{payment['payment_id']}/complete")
    assert done.status_code == 200, done.content
    assert Order.objects.get(pk=answer["id"]).status == "to_ship"
    assert balance("gateway:sandbox") == answer["payable"]


def test_the_answer_is_the_order_as_stored(customer, sku, make_address):
    """The answer is made from what was written, not read back: it must equal a read."""
    address = make_address(customer)
    answer = customer.api.post("/orders", _body(sku, address, qty=3)).json()
    stored = customer.api.get(f"/orders/{answer['id']}").json()
    assert {k: v for k, v in answer.items() if k != "payment"} == stored
    plain = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    assert plain["payment"] is None
    assert {k: v for k, v in plain.items() if k != "payment"} == customer.api.get(
        f"/orders/{plain['id']}"
    ).json()


def test_paying_the_order_again_resumes_the_payment_it_started(customer, sku, make_address):
    answer = customer.api.post("/orders", _body(sku, make_address(customer))).json()
    again = customer.api.post(f"/orders/{answer['id']}/pay", {"gateway": "sandbox"}).json()
    assert again == answer["payment"]
    assert Payment.objects.count() == 1


def test_sold_out_leaves_neither_order_nor_payment(customer, make_product, make_address):
    sku = make_product(stock=1).skus.get()
    refused = customer.api.post("/orders", _body(sku, make_address(customer), qty=2))
    assert refused.status_code == 409 and refused.json()["code"] == "out_of_stock"
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert SKU.objects.get(pk=sku.pk).stock == 1


def test_the_same_key_twice_gives_one_order_and_one_payment(customer, sku, make_address):
    body = _body(sku, make_address(customer))
    headers = {"Idempotency-Key": "checkout-1"}
    first = customer.api.post("/orders", body, headers=headers)
    second = customer.api.post("/orders", body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert SKU.objects.get(pk=sku.pk).stock == 99


def test_an_unavailable_gateway_is_refused_before_anything_is_written(customer, sku, make_address):
    address = make_address(customer)
    refused = customer.api.post("/orders", _body(sku, address, gateway="wechatpay"))
    assert refused.status_code == 422
    assert refused.json()["code"] == "gateway_not_configured"
    unknown = customer.api.post("/orders", _body(sku, address, gateway="cash"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_error"
    assert not Order.objects.exists() and SKU.objects.get(pk=sku.pk).stock == 100
