"""Placing, paying, cancelling and the timed sweeps of ordinary orders."""

from datetime import timedelta

from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.core.platform_settings import settings_update
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.orders.services import orders_auto_confirm, orders_expire_unpaid, orders_settle_due


def test_order_reserves_stock_and_shows_its_lines(customer, make_product, make_address):
    product = make_product(price=1990, stock=10)
    sku = product.skus.get()
    address = make_address(customer)
    response = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 3}], "address_id": address.pk}
    )
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == 5970 and order["payable"] == 5970 and order["discount"] == 0
    assert order["lines"][0]["qty"] == 3 and order["lines"][0]["paid"] == 5970
    assert order["address"]["city"] == "杭州市"
    assert SKU.objects.get(pk=sku.pk).stock == 7


def test_same_sku_twice_in_one_order_is_one_line(customer, sku, make_address):
    address = make_address(customer)
    items = [{"sku_id": sku.pk, "qty": 1}, {"sku_id": sku.pk, "qty": 2}]
    order = customer.api.post("/orders", {"items": items, "address_id": address.pk}).json()
    assert [line["qty"] for line in order["lines"]] == [3]


def test_out_of_stock_is_409_and_takes_nothing(customer, make_product, make_address):
    product = make_product(stock=2)
    sku = product.skus.get()
    address = make_address(customer)
    response = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 3}], "address_id": address.pk}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert SKU.objects.get(pk=sku.pk).stock == 2
    assert not Order.objects.exists()


def test_multi_line_order_out_of_stock_on_one_line_takes_nothing(
    customer, make_product, make_address
):
    a = make_product(stock=5).skus.get()
    b = make_product(stock=1, title="赣南脐橙").skus.get()
    address = make_address(customer)
    items = [{"sku_id": a.pk, "qty": 2}, {"sku_id": b.pk, "qty": 2}]
    response = customer.api.post("/orders", {"items": items, "address_id": address.pk})
    assert response.status_code == 409
    assert SKU.objects.get(pk=a.pk).stock == 5 and SKU.objects.get(pk=b.pk).stock == 1


def test_bad_order_input_is_a_clear_4xx(customer, sku, make_address, make_user):
    address = make_address(customer)
    cases = [
        ({"items": [], "address_id": address.pk}, 422),
        ({"items": [{"sku_id": sku.pk, "qty": 0}], "address_id": address.pk}, 422),
        ({"items": [{"sku_id": sku.pk, "qty": -1}], "address_id": address.pk}, 422),
        ({"items": [{"sku_id": 999999, "qty": 1}], "address_id": address.pk}, 422),
        ({"items": [{"sku_id": sku.pk, "qty": 1}]}, 422),
        ({"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": 999999}, 422),
        ({"items": [{"sku_id": "x", "qty": 1}], "address_id": address.pk}, 422),
        ({"items": "nope"}, 422),
    ]
    for body, status in cases:
        response = customer.api.post("/orders", body)
        assert response.status_code == status, (body, response.content)
        assert set(response.json()) == {"code", "message", "detail"}
    other = make_user()
    response = other.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_address"
    assert not Order.objects.exists()


def test_inactive_product_cannot_be_bought(customer, make_product, make_address, operator):
    product = make_product()
    operator.api.patch(f"/admin/products/{product.pk}", {"is_active": False})
    address = make_address(customer)
    response = customer.api.post(
        "/orders",
        {"items": [{"sku_id": product.skus.get().pk, "qty": 1}], "address_id": address.pk},
    )
    assert response.status_code == 422 and response.json()["code"] == "sku_unavailable"


def test_cancel_returns_stock(customer, sku, buy):
    order = buy(customer, sku, qty=4, pay=False)
    assert SKU.objects.get(pk=sku.pk).stock == 96
    response = customer.api.post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == 100
    again = customer.api.post(f"/orders/{order['id']}/cancel")
    assert again.status_code == 200
    assert SKU.objects.get(pk=sku.pk).stock == 100


def test_payment_timeout_sweep_cancels_and_frees_stock_once(customer, sku, buy):
    order = buy(customer, sku, qty=2, pay=False)
    later = timezone.now() + timedelta(seconds=901)
    assert orders_expire_unpaid(now=timezone.now()) == 0
    assert orders_expire_unpaid(now=later) == 1
    assert orders_expire_unpaid(now=later) == 0
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert Order.objects.get(pk=order["id"]).cancel_reason == "payment_timeout"
    assert SKU.objects.get(pk=sku.pk).stock == 100
    pay = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
    assert pay.status_code == 409


def test_payment_window_closed_refuses_new_payment(customer, sku, buy):
    order = buy(customer, sku, pay=False)
    Order.objects.filter(pk=order["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    pay = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
    assert pay.status_code == 409 and pay.json()["code"] == "payment_expired"


def test_auto_confirm_and_settlement_split_the_money(customer, operator, make_product, buy):
    from quanzi.catalog.services import supplier_create

    supplier = supplier_create(name="鲜果直采")
    sku = make_product(price=5000, supply_price=3000, supplier_id=supplier.pk).skus.get()
    order = buy(customer, sku, qty=2)
    operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF9"}
    )
    now = timezone.now()
    assert orders_auto_confirm(now=now + timedelta(days=6)) == 0
    assert orders_auto_confirm(now=now + timedelta(days=7, seconds=1)) == 1
    completed = Order.objects.get(pk=order["id"])
    assert completed.status == "completed" and completed.after_sales_ends_at is not None
    # The after-sales window runs 7 days from completion.
    assert orders_settle_due(now=now + timedelta(days=6)) == 0
    assert orders_settle_due(now=now + timedelta(days=8)) == 1
    assert orders_settle_due(now=now + timedelta(days=8)) == 0
    assert balance(f"supplier_payable:{supplier.pk}") == -6000
    assert balance("platform_revenue") == -4000
    assert balance("customer_funds") == 0
    assert balance("gateway:sandbox") == 10000


def test_shipping_fee_from_settings_is_charged_once(customer, operator, make_product, buy):
    settings_update(patch={"shipping": {"fee": 800, "free_above": 10000}})
    cheap = make_product(price=1000).skus.get()
    order = buy(customer, cheap, qty=1)
    assert order["shipping"] == 800 and order["payable"] == 1800
    assert order["lines"][0]["paid"] == 1000
    free = buy(customer, cheap, qty=10)
    assert free["shipping"] == 0 and free["payable"] == 10000


def test_lists_show_only_own_orders_with_cursor_pages(customer, make_user, sku, buy):
    other = make_user()
    mine = [buy(customer, sku, pay=False)["id"] for _ in range(3)]
    buy(other, sku, pay=False)
    first = customer.api.get("/orders?limit=2").json()
    assert [o["id"] for o in first["items"]] == sorted(mine, reverse=True)[:2]
    second = customer.api.get(f"/orders?limit=2&cursor={first['next_cursor']}").json()
    assert [o["id"] for o in second["items"]] == [min(mine)]
    assert second["next_cursor"] is None
    assert customer.api.get("/orders?cursor=garbage").status_code == 422
    assert customer.api.get("/orders?limit=1000").status_code == 422


def test_order_lines_keep_the_product_picture(customer, make_product, make_address):
    sku = make_product(images=["/static/demo/apple.jpg", "/static/demo/rice.jpg"]).skus.get()
    address = make_address(customer)
    order = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    assert order["lines"][0]["image"] == "/static/demo/apple.jpg"
