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


def test_a_new_customer_gets_the_red_packet_signs_in_and_pastes_an_address(
    new_phone, live_server, make_product, buy, make_user
):
    from quanzi.accounts.models import Address, User
    from quanzi.marketing.models import Coupon, SignIn
    from quanzi.marketing.services import coupon_template_create

    coupon_template_create(
        data={
            "name": "新人无门槛券",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 0,
            "total": 100,
            "per_user_limit": 1,
            "valid_days": 7,
            "new_user_gift": True,
        }
    )
    product = make_product(title="阿克苏苹果", price=3990, images=["/static/demo/apple.jpg"])
    buy(make_user(phone="13912340007"), product.skus.get(), qty=3)

    page = new_phone()
    page.goto("/register/")
    page.fill("#id_phone", "13912340006")
    page.fill("#id_password", "secret123")
    page.check("#id_agree")
    page.click("main button[type=submit]")
    page.wait_for_selector("#welcome-sheet")
    assert "新人红包" in page.inner_text("#welcome-sheet")
    assert "新人无门槛券" in page.inner_text("#welcome-sheet")
    shot(page, "habits-03-new-user-red-packet")
    user = User.objects.get(phone="13912340006")
    assert Coupon.objects.filter(user=user, source="new_user").count() == 1
    page.reload()
    assert page.locator("#welcome-sheet").count() == 0  # shown once

    # 已售 on the card and on the product page: the three units paid for.
    page.goto("/")
    card = page.locator(f"a[href='/p/{product.pk}']").first
    assert "已售 3" in card.inner_text()
    page.goto(f"/p/{product.pk}")
    assert "已售 3" in page.inner_text("main")

    # 签到: the calendar marks today, the streak starts, tomorrow's reward is shown.
    page.goto("/me/points/")
    assert "已连续签到 0 天" in page.inner_text("#sign-in-streak")
    # The button says it is working and cannot be pressed twice (the submission held
    # back here to see it), then the form goes.
    page.evaluate("document.addEventListener('submit', (e) => e.preventDefault())")
    page.click("#sign-in-button")
    page.wait_for_selector("#sign-in-button[aria-busy=true]:disabled")
    page.evaluate("document.getElementById('sign-in-button').form.submit()")
    page.wait_for_selector("#sign-in-done")
    assert "已连续签到 1 天" in page.inner_text("#sign-in-streak")
    assert page.locator("#sign-in-calendar .cal-day.signed.today").count() == 1
    assert page.locator("#sign-in-next .signin-reward").count() == 7
    assert SignIn.objects.filter(user=user).count() == 1
    shot(page, "habits-04-sign-in-calendar")

    # 智能填写: a pasted address fills every field, the selects cascade to it.
    page.goto("/me/addresses/new/")
    page.wait_for_selector("form[data-regions-ready]")
    page.fill("#paste-address", "张三 13800138000 浙江省杭州市西湖区文三路88号")
    page.click("#paste-fill")
    page.wait_for_selector("form[data-filled]")
    assert page.input_value("#id_name") == "张三"
    assert page.input_value("#id_phone") == "13800138000"
    assert page.input_value("#id_province") == "浙江省"
    assert page.input_value("#id_city") == "杭州市"
    assert page.input_value("#id_district") == "西湖区"
    assert page.input_value("#id_detail") == "文三路88号"
    shot(page, "habits-05-address-pasted")
    page.select_option("#id_province", "广东省")  # the cities follow the province
    assert "深圳市" in page.inner_text("#id_city")
    page.select_option("#id_city", "深圳市")
    page.select_option("#id_district", "南山区")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me/addresses/")
    saved = Address.objects.get(user=user)
    assert (saved.province, saved.city, saved.district) == ("广东省", "深圳市", "南山区")
