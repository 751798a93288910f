"""An operator in real headless Chromium: log in, create a product, approve a refund."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from quanzi.catalog.models import Product
from quanzi.orders.models import Refund
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_creates_a_product_and_approves_a_refund(
    new_desktop, new_phone, live_server, operator, customer, sku, buy
):
    from quanzi.orders.refunds import refund_request

    order = buy(customer, sku)
    refund = refund_request(order_id=order["id"], user=customer, lines=None, reason="quality")

    # A customer is turned away.
    shopper = new_phone()
    shopper.goto("/dashboard/login/")
    shopper.fill("#id_phone", customer.phone)
    shopper.fill("#id_password", "secret123")
    shopper.click("main button[type=submit]")
    assert "该账号不是运营人员" in shopper.inner_text(".form-errors")

    page = new_desktop()
    page.goto("/dashboard/")
    page.wait_for_url("**/dashboard/login/**")
    page.fill("#id_phone", operator.phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/dashboard/")
    shot(page, "dashboard-01-overview")

    page.click("nav.nav a[href='/dashboard/products/']")
    page.click("a[href='/dashboard/products/new/']")
    page.click("#product-form button[type=submit]")  # empty: errors beside the fields
    # The form posts to its own address, so the URL cannot tell when the answer is in.
    expect(page.locator(".field.has-error #id_title")).to_have_count(1)
    page.fill("#id_title", "新疆若羌灰枣")
    page.fill("#id_category", "零食饮料")
    page.fill("#id_images", "/static/demo/nuts.jpg")
    page.fill("#id_sku-0-name", "1kg 礼盒")
    page.fill("#id_sku-0-price", "39.90")
    page.fill("#id_sku-0-supply_price", "20")
    page.fill("#id_sku-0-member_price", "35.90")
    page.fill("#id_sku-0-stock", "200")
    shot(page, "dashboard-02-new-product")
    page.click("#product-form button[type=submit]")
    page.wait_for_url("**/dashboard/products/*/")
    product = Product.objects.get(title="新疆若羌灰枣")
    assert product.skus.get().price == 3990
    shot(page, "dashboard-03-product-saved")

    page.goto("/dashboard/products/?q=灰枣")
    assert page.locator("table tbody tr").count() == 1

    page.click("nav.nav a[href='/dashboard/refunds/']")
    page.wait_for_url("**/dashboard/refunds/")
    row = page.locator(f"tr[data-refund='{refund.pk}']")
    assert row.is_visible()
    assert accessible(page) == []
    shot(page, "dashboard-04-refunds")
    row.locator(f"button[data-approve='{refund.pk}']").click()
    page.wait_for_load_state()
    assert page.locator(".msg.success").is_visible()
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    shot(page, "dashboard-05-refund-approved")

    # The customer sees the money came back.
    shopper.goto(f"/login/?next=/orders/{order['id']}/")
    shopper.fill("#id_phone", customer.phone)
    shopper.fill("#id_password", "secret123")
    shopper.click("main button[type=submit]")
    shopper.wait_for_url(f"**/orders/{order['id']}/")
    assert shopper.get_attribute("#order-status", "data-status") == "refunded"
    assert Refund.objects.get(pk=refund.pk).amount == order["payable"]
    shot(shopper, "shop-10-refunded-order")
