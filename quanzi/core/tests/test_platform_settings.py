"""Operator settings: read, write, validated; more than two levels is a pyramid."""


def test_defaults_are_readable_by_operators_only(operator, customer, anon):
    response = operator.api.get("/admin/settings")
    assert response.status_code == 200
    data = response.json()
    assert data["payment_timeout_seconds"] == 900
    assert data["auto_confirm_seconds"] == 7 * 86400 and data["after_sales_seconds"] == 7 * 86400
    assert data["distribution"]["levels"] == 2 and data["distribution"]["bind_on"] == "first_visit"
    assert customer.api.get("/admin/settings").status_code == 403
    assert anon.get("/admin/settings").status_code == 401


def test_partial_update_keeps_the_rest(operator):
    response = operator.api.put(
        "/admin/settings",
        {"payment_timeout_seconds": 600, "distribution": {"level1_rate_bp": 1500}},
    )
    assert response.status_code == 200
    data = operator.api.get("/admin/settings").json()
    assert data["payment_timeout_seconds"] == 600
    assert (
        data["distribution"]["level1_rate_bp"] == 1500
        and data["distribution"]["level2_rate_bp"] == 500
    )


def test_three_levels_is_a_pyramid_and_refused(operator):
    response = operator.api.put("/admin/settings", {"distribution": {"levels": 3}})
    assert response.status_code == 422 and response.json()["code"] == "pyramid_forbidden"
    assert operator.api.get("/admin/settings").json()["distribution"]["levels"] == 2


def test_bad_values_are_422_with_a_code_and_change_nothing(operator):
    for patch in [
        {"payment_timeout_seconds": -1},
        {"payment_timeout_seconds": "soon"},
        {"distribution": {"level2_rat_bp": 100}},  # misspelled: refused, never silently 0
        {"distribution": {"bind_on": "whenever"}},
        {"distribution": {"level1_rate_bp": 20000}},
        {"no_such_setting": 1},
    ]:
        response = operator.api.put("/admin/settings", patch)
        assert response.status_code == 422, patch
        assert response.json()["code"] == "invalid_setting"
    assert operator.api.get("/admin/settings").json()["payment_timeout_seconds"] == 900


def test_payment_timeout_setting_is_used_by_new_orders(operator, customer, sku, buy):
    from quanzi.orders.models import Order

    operator.api.put("/admin/settings", {"payment_timeout_seconds": 120})
    order = Order.objects.get(pk=buy(customer, sku, pay=False)["id"])
    assert 115 <= (order.expires_at - order.created_at).total_seconds() <= 125
