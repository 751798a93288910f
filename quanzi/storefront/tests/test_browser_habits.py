"""Habits in a phone browser: 确认收货 asks first, the poster opens in a sheet."""

from __future__ import annotations

import pytest

from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import shot
from quanzi.storefront.tests.test_browser_group import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_receipt_is_confirmed_only_after_saying_yes_and_the_poster_opens_in_a_sheet(
    new_phone, live_server, make_user, make_product, buy
):
    from quanzi.orders.services import order_ship

    product = make_product(title="赣南脐橙", price=2990, images=["/static/demo/orange.jpg"])
    shopper = make_user(phone="13912340004", nickname="小收")
    order = buy(shopper, product.skus.get())
    order_ship(order_id=order["id"], carrier="顺丰", tracking_no="SF100")
    page = new_phone()
    log_in(page, "13912340004", f"/orders/{order['id']}/")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#confirm-receipt button")
    page.wait_for_timeout(300)
    assert Order.objects.get(pk=order["id"]).status == "shipped"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#confirm-receipt button")
    page.wait_for_function("document.getElementById('order-status').dataset.status === 'completed'")
    assert Order.objects.get(pk=order["id"]).status == "completed"
    shot(page, "habits-01-receipt-confirmed")

    page.goto(f"/p/{product.pk}")
    page.click("#poster-open")
    page.wait_for_selector("#poster-sheet:not([hidden])")
    page.wait_for_function("document.querySelector('#poster-sheet img').naturalWidth > 0")
    assert page.url.endswith(f"/p/{product.pk}")  # no raw PNG tab
    shot(page, "habits-02-poster-sheet")
    page.click("#poster-sheet [data-sheet-close]")
    assert page.locator("#poster-sheet").is_hidden()
