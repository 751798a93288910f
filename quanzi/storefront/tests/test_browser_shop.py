"""A shopper on a phone, in real headless Chromium: register, browse, buy, pay."""

from __future__ import annotations

import pytest

from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shopper_registers_browses_buys_and_pays(new_phone, live_server, make_product):
    product = make_product(
        title="阿克苏冰糖心苹果",
        price=3990,
        member_price=3590,
        images=["/static/demo/apple.jpg"],
        category="生鲜水果",
        description="新疆阿克苏产区直发，脆甜多汁。",
    )
    for i in range(11):
        make_product(
            title=f"五常稻花香大米 {i + 1}kg", price=8900, images=["/static/demo/rice.jpg"]
        )
    page = new_phone()

    page.goto("/register/")
    assert accessible(page) == []
    page.fill("#id_phone", "13912345678")
    page.fill("#id_password", "secret123")
    page.fill("#id_nickname", "小王")
    page.check("#id_agree")
    shot(page, "shop-01-register")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert accessible(page) == []
    shot(page, "shop-02-home")
    assert page.locator("a.card").count() == 10  # one page; htmx loads the rest on scroll
    page.locator(".more").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('a.card').length === 12")
    assert page.locator(f"a.card[href='/p/{product.pk}']").is_visible()

    page.click(f"a.card[href='/p/{product.pk}']")
    page.wait_for_url(f"**/p/{product.pk}")
    assert "39" in page.inner_text(".price-bar")
    assert page.locator(".buybar").is_visible()
    assert accessible(page) == []
    shot(page, "shop-03-product")

    page.click(".stepper button[data-step='1']")
    assert page.input_value("#qty") == "2"
    page.click(".buybar button[formaction='/buy/']")
    page.wait_for_url("**/checkout/")
    shot(page, "shop-04-checkout-no-address")

    page.click("a.btn[href^='/me/addresses/new/']")
    page.wait_for_url("**/me/addresses/new/**")
    page.click("main button[type=submit]")  # empty: every field says what is missing
    assert page.locator(".field.has-error").count() >= 5
    page.fill("#id_name", "王小明")
    page.fill("#id_phone", "13912345678")
    page.wait_for_selector("form[data-regions-ready]")
    page.select_option("#id_province", "浙江省")
    page.select_option("#id_city", "杭州市")
    page.select_option("#id_district", "西湖区")
    page.fill("#id_detail", "文三路 90 号")
    page.click("main button[type=submit]")
    page.wait_for_url("**/checkout/")
    assert "7980" in page.inner_text("#pay-total").replace(".", "").replace("¥", "").strip()
    assert accessible(page) == []
    shot(page, "shop-05-checkout")

    page.click("button[name=place]")
    page.wait_for_url("**/orders/*/pay/")
    shot(page, "shop-06-cashier")
    page.click("main button[type=submit]")
    page.wait_for_url("**/pay/sandbox/*")
    shot(page, "shop-07-sandbox-pay")
    page.click("#sandbox-pay")
    page.wait_for_url("**/orders/*/")
    assert page.get_attribute("#order-status", "data-status") == "to_ship"
    shot(page, "shop-08-paid-order")

    order = Order.objects.get()
    assert order.status == "to_ship" and order.payable == 7980
    assert order.user.phone == "13912345678"

    page.goto("/orders/")
    assert page.locator(f"[data-order='{order.pk}']").is_visible()
    shot(page, "shop-09-my-orders")
