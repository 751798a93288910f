"""A member on a phone sees and pays the member price: the product page, the cart and
checkout show the same figure, and the order charges it."""

from __future__ import annotations

import pytest

from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import shot
from quanzi.storefront.tests.test_browser_group import log_in, pay_at_checkout
from quanzi.storefront.tests.test_prices import make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def yuan_text(page, selector: str) -> str:
    return page.inner_text(selector).replace("¥", "").replace("\n", "").strip()


def test_a_member_sees_and_pays_the_member_price(
    new_phone, live_server, operator, make_user, make_address, make_product
):
    product = make_product(
        title="阿克苏冰糖心苹果",
        price=3990,
        member_price=2990,
        images=["/static/demo/apple.jpg"],
    )
    shopper = make_user(phone="13912340001", nickname="小会员")
    make_address(shopper)
    make_member(operator, shopper)
    page = new_phone()
    log_in(page, "13912340001", "/membership/")
    # the plan's price is legible on its button (not red on red)
    button = page.locator("form[action$='/buy/'] button").first
    colours = button.evaluate(
        "b => [getComputedStyle(b).backgroundColor,"
        " getComputedStyle(b.querySelector('.price')).color]"
    )
    assert colours[0] != colours[1]
    shot(page, "prices-01-membership")

    page.goto(f"/p/{product.pk}")
    on_product = yuan_text(page, "#my-price")
    assert on_product == "29.90"
    assert "会员省 ¥10.00" in page.inner_text(".price-bar")
    shot(page, "prices-02-product-member")

    page.click(".buybar button[formaction='/cart/add/']")
    page.wait_for_selector("#cart-badge:not([hidden])")
    page.goto("/cart/")
    in_cart = yuan_text(page, "#cart-total")
    shot(page, "prices-03-cart-member")

    page.click(".cart-bar button[type=submit]")
    page.wait_for_url("**/checkout/")
    at_checkout = yuan_text(page, "#summary .kv.total .price")
    assert "会员省 ¥10.00" in page.inner_text("#summary")
    shot(page, "prices-04-checkout-member")
    assert on_product == in_cart == at_checkout == "29.90"

    pay_at_checkout(page)
    page.wait_for_url("**/orders/*/")
    order = Order.objects.filter(user=shopper).exclude(lines__sku__product__is_virtual=True).get()
    assert order.payable == 2990
