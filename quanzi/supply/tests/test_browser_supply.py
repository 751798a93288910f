"""In a real phone-sized browser: a supplier signs in, ships a line with the carrier
list and a tracking number (a wrong number is refused first), and the customer's order
page then shows the parcel."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, phone: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_supplier_ships_a_line(new_phone, supplier, customer, paid_order):
    order = paid_order(customer, [(supplier.sku, 2)])
    line = order.lines.get()

    page = new_phone()
    log_in(page, supplier.phone, "/supplier/")
    row = page.locator(f'[data-line="{line.pk}"]')
    assert "脐橙 5kg" in row.inner_text()
    assert accessible(page) == []
    shot(page, "supply-01-lines-to-ship")

    row.locator("select").select_option("YTO")
    row.locator("input[name=tracking_no]").fill("SF1234567890123")
    row.locator("button[type=submit]").click()
    # The form posts back to /supplier/: wait for the answer, not the URL.
    expect(page.locator("body")).to_contain_text("运单号与快递公司不符")
    assert Order.objects.get(pk=order.pk).status == "to_ship"

    row = page.locator(f'[data-line="{line.pk}"]')
    row.locator("select").select_option("SF")
    row.locator("input[name=tracking_no]").fill("SF1234567890123")
    row.locator("button[type=submit]").click()
    expect(page.locator("#nothing-to-ship")).to_have_count(1)
    assert "SF1234567890123" in page.inner_text("#shipments")
    shot(page, "supply-02-shipped")
    assert Order.objects.get(pk=order.pk).status == "shipped"

    buyer = new_phone()
    log_in(buyer, customer.phone, f"/orders/{order.pk}/")
    assert buyer.get_attribute("#order-status", "data-status") == "shipped"
    assert "顺丰速运" in buyer.inner_text("#tracking")
    assert accessible(buyer) == []
