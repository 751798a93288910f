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


def test_another_process_change_is_seen_within_the_generation_check(db, monkeypatch):
    """A change made elsewhere (another server process: a new generation in the shared
    cache, a new row) is seen once ``GENERATION_CHECK_SECONDS`` have passed; until then
    the copy is served without asking the cache."""
    from django.core.cache import cache

    from quanzi.core import platform_settings as ps
    from quanzi.core.models import PlatformSettings

    clock = [1000.0]
    monkeypatch.setattr(ps.time, "monotonic", lambda: clock[0])
    assert ps.get_settings().payment_timeout_seconds == 900
    asked = []
    real_call = ps._cache_call
    monkeypatch.setattr(ps, "_cache_call", lambda *a, **k: asked.append(a) or real_call(*a, **k))
    # The other process: its row and its new generation.
    PlatformSettings.objects.update_or_create(
        id=1, defaults={"data": {"payment_timeout_seconds": 600}}
    )
    cache.set(ps._GENERATION_KEY, "changed elsewhere", timeout=None)

    clock[0] += ps.GENERATION_CHECK_SECONDS / 2
    assert ps.get_settings().payment_timeout_seconds == 900
    assert asked == []  # served from the copy, no cache round trip
    clock[0] += ps.GENERATION_CHECK_SECONDS
    assert ps.get_settings().payment_timeout_seconds == 600
    assert asked[0] == ("get", ps._GENERATION_KEY)
