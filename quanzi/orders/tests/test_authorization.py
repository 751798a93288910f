"""A user never reads or changes another user's order; customers are not operators."""

OPERATOR_CALLS = [
    ("get", "/admin/settings", None),
    ("put", "/admin/settings", {"payment_timeout_seconds": 600}),
    (
        "post",
        "/admin/products",
        {"title": "x", "skus": [{"name": "x", "price": 100, "supply_price": 50}]},
    ),
    ("get", "/admin/orders", None),
    ("post", "/admin/orders/1/ship", {"carrier": "x", "tracking_no": "y"}),
    ("post", "/admin/refunds/1/approve", None),
    ("post", "/admin/refunds/1/reject", {}),
    ("get", "/admin/refunds", None),
    ("post", "/admin/suppliers", {"name": "x"}),
]


def test_customers_cannot_call_operator_endpoints(customer, anon):
    for method, path, body in OPERATOR_CALLS:
        kwargs = {"body": body} if body is not None else {}
        response = getattr(customer.api, method)(path, **kwargs)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["code"] == "forbidden"
        assert getattr(anon, method)(path, **kwargs).status_code == 401, (method, path)


def test_another_users_order_is_invisible_and_untouchable(customer, make_user, sku, buy):
    order = buy(customer, sku)
    other = make_user()
    assert other.api.get(f"/orders/{order['id']}").status_code == 404
    assert other.api.post(f"/orders/{order['id']}/cancel").status_code == 404
    assert other.api.post(f"/orders/{order['id']}/confirm-receipt").status_code == 404
    assert (
        other.api.post(f"/orders/{order['id']}/refunds", {"reason": "mine now"}).status_code == 404
    )
    assert other.api.get(f"/orders/{order['id']}/refunds").status_code == 404
    assert other.api.get("/orders").json()["items"] == []
    assert customer.api.get(f"/orders/{order['id']}").status_code == 200


def test_no_token_is_401_everywhere_private(anon, customer, sku, buy):
    order = buy(customer, sku, pay=False)
    for method, path in [
        ("get", "/orders"),
        ("get", f"/orders/{order['id']}"),
        ("post", "/orders"),
        ("post", f"/orders/{order['id']}/pay"),
        ("get", "/me"),
        ("get", "/me/addresses"),
    ]:
        response = getattr(anon, method)(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthorized"


def test_session_login_needs_csrf_for_writes(customer, sku):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    assert client.get("/api/v1/me").status_code == 200
    response = client.post("/api/v1/orders", data="{}", content_type="application/json")
    assert response.status_code in (401, 403)
