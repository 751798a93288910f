"""Habits shoppers have: 客服, consent at sign-up, where a withdrawal goes, a friend
listed once, a poster to long-press, a confirmation before 确认收货."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_customer_service_is_what_the_operator_configured(customer, operator, sku):
    from quanzi.core.platform_settings import settings_update

    shopper = logged_in(customer)
    assert "客服暂未开通" in shopper.get("/service/").content.decode()
    assert 'id="buybar-service"' not in shopper.get(f"/p/{sku.product_id}").content.decode()

    settings_update(
        patch={"storefront": {"service_wechat": "quanzi_kefu", "service_phone": "400-800-1234"}}
    )
    page = shopper.get("/service/").content.decode()
    assert 'data-copy="quanzi_kefu"' in page and 'href="tel:400-800-1234"' in page
    assert 'id="buybar-service"' in shopper.get(f"/p/{sku.product_id}").content.decode()
    assert "/service/" in shopper.get("/me/").content.decode()


def test_the_agreement_and_the_privacy_policy_are_pages(db):
    terms = Client().get("/terms/").content.decode()
    privacy = Client().get("/privacy/").content.decode()
    assert "用户协议" in terms and "原路退回" in terms
    assert "隐私政策" in privacy and "绝不出售" in privacy
    register = Client().get("/register/").content.decode()
    assert 'href="/terms/"' in register and 'href="/privacy/"' in register


def test_the_withdrawal_page_says_where_the_money_goes(customer):
    page = logged_in(customer).get("/me/withdrawals/").content.decode()
    assert "提现将打款到" in page and "模拟账户" in page


def test_a_friend_who_used_the_code_and_a_share_is_listed_once(customer, make_user, sku):
    from quanzi.accounts.services import referrer_bind
    from quanzi.social.models import ShareConversion
    from quanzi.social.services import share_create

    friend = make_user(nickname="只出现一次")
    referrer_bind(user=friend, referrer=customer, source="invite_code")
    link = share_create(sharer=customer, target="product", target_id=sku.product_id)
    ShareConversion.objects.create(link=link, user=friend, kind="register")
    page = logged_in(customer).get("/me/invite/").content.decode()
    assert page.count("只出现一次</span>") == 1


def test_the_poster_opens_in_a_sheet_and_receipt_asks_first(customer, buy, sku):
    shopper = logged_in(customer)
    product = shopper.get(f"/p/{sku.product_id}").content.decode()
    assert 'id="poster-sheet"' in product and "长按图片保存" in product
    assert 'target="_blank"' not in product.split('id="poster-open"')[1][:20]

    from quanzi.orders.services import order_ship

    order = buy(customer, sku)
    order_ship(order_id=order["id"], carrier="顺丰", tracking_no="SF1")
    detail = shopper.get(f"/orders/{order['id']}/").content.decode()
    assert 'id="confirm-receipt"' in detail and "确认已收到货并检查无误吗" in detail


def test_the_red_packet_is_shown_once_after_sign_up(db):
    from quanzi.marketing.services import coupon_template_create

    coupon_template_create(
        data={
            "name": "新人立减券",
            "kind": "amount_off",
            "amount": 800,
            "threshold": 0,
            "total": 100,
            "per_user_limit": 1,
            "valid_days": 7,
            "new_user_gift": True,
        }
    )
    client = Client()
    response = client.post(
        "/register/",
        {"phone": "13800138009", "password": "secret123", "agree": "on", "nickname": "新客"},
        follow=True,
    )
    page = response.content.decode()
    assert 'id="welcome-sheet"' in page and "新人立减券" in page and "新人红包" in page
    assert 'id="welcome-sheet"' not in client.get("/").content.decode()


def test_sold_counts_read_as_shops_write_them():
    from quanzi.storefront.templatetags.qz import sold_count

    assert [sold_count(n) for n in (0, 999, 9_999, 12_345, 10_000, 99_999, 123_456)] == [
        "0",
        "999",
        "9999",
        "1.2万",
        "1万",
        "9.9万",
        "12万+",
    ]
