"""The shopper's path in real phone-sized browsers: a customer picks the nearest point
and orders before the cutoff; the leader confirms arrival and verifies the customer's
code; the order completes and the leader sees the commission."""

from __future__ import annotations

from datetime import datetime

import pytest

from quanzi.community import sweeps
from quanzi.community.tests.conftest import BINJIANG, XIHU
from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, phone: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_customer_orders_at_nearest_point_and_leader_hands_it_over(
    new_phone, make_leader, make_user, make_wave, veg, clock
):
    far = make_leader(name="滨江驿站", at=BINJIANG, area="滨江区", nickname="李师傅")
    near = make_leader(name="幸福里便利店", at=XIHU, nickname="王阿姨")
    wave = make_wave([{"sku_id": veg.pk, "price": 390, "stock": 20, "per_user_limit": 5}])
    buyer = make_user(nickname="小红")

    page = new_phone()
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": XIHU[0] + 0.001, "longitude": XIHU[1]})
    log_in(page, buyer.phone, "/community/")
    page.click("#choose-point")
    page.wait_for_url("**/community/points/")
    page.click("#locate")
    page.wait_for_url("**/community/points/?lat=*")
    points = page.locator(".point")
    assert points.nth(0).get_attribute("data-point") == str(near.point_id)
    assert points.nth(1).get_attribute("data-point") == str(far.point_id)
    assert " m" in points.nth(0).inner_text() and " km" in points.nth(1).inner_text()
    assert accessible(page) == []
    shot(page, "community-01-points-nearest-first")
    points.nth(0).locator("button").click()
    page.wait_for_url("**/community/")
    assert page.inner_text("#point-name") == "幸福里便利店"
    assert page.locator("#wave .countdown").count() == 1
    page.fill(f"#qty-{veg.pk}", "2")
    shot(page, "community-02-wave")
    page.click("#wave-order")
    page.wait_for_url("**/orders/*/pay/")
    page.click("main button[type=submit]")
    page.wait_for_url("**/pay/sandbox/*")
    page.click("#sandbox-pay")
    page.wait_for_url("**/orders/*/")
    order = Order.objects.get(user=buyer, channel="community")
    assert order.status == "to_ship" and order.payable == 780
    code = page.inner_text("#pickup .pickup-code").strip()  # on the paid order's page
    assert len(code) == 6
    page.goto("/community/codes/")
    assert page.inner_text(".pickup-code").strip() == code
    shot(page, "community-03-pickup-code")

    # The cutoff passes; the sweep closes the wave.
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    assert sweeps.waves_close_due() == 1

    desk = new_phone()
    log_in(desk, near.phone, "/community/leader/")
    desk.click(f"#confirm-arrival-{wave['id']}")
    desk.wait_for_url("**/community/leader/")
    assert "已确认到货" in desk.content() or "Arrival confirmed" in desk.content()
    desk.fill(f"#code-{near.point_id}", code)
    desk.click(f"form[action='/community/leader/points/{near.point_id}/pickup/'] button")
    desk.wait_for_url("**/community/leader/")
    order.refresh_from_db()
    assert order.status == "completed"
    assert desk.inner_text("#leader-frozen") == "¥0.78"  # 10 % of ¥7.80, until settlement
    assert accessible(desk) == []
    shot(desk, "community-04-leader-desk")
