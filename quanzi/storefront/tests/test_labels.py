"""Stored codes reach people as words: statuses, reasons and notes in Chinese, one
English word translated by its meaning, order numbers that look like order numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from quanzi.core.labels import label
from quanzi.orders.numbers import order_id_from_number, order_number


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def test_codes_become_chinese_words():
    assert label("group_status", "forming") == "拼团中"
    assert label("group_status", "succeeded") == "拼团成功"
    assert label("points_reason", "sign_in") == "每日签到"
    assert label("points_reason", "lottery") == "抽奖奖品"
    assert label("withdrawal_status", "processing") == "打款中"
    assert label("coupon_scope", "categories") == "指定分类"
    assert label("order_note", "payment captured") == "已收款"
    assert label("refund_reason", "group 12 failed") == "拼团未成团，已自动退款"


def test_unknown_codes_never_show_and_typed_text_does():
    assert label("points_reason", "some_new_reason") == "积分变动"
    assert label("order_note", "something the code wrote") == ""
    assert label("refund_reason", "尺码不合适") == "尺码不合适"
    assert label("gateway", "") == ""


def test_one_english_word_two_meanings():
    from django.utils.translation import pgettext

    assert label("order_status", "paid") == "已支付"
    assert pgettext("amount", "Paid") == "实付"
    assert pgettext("time", "Paid") == "付款时间"
    assert pgettext("product", "Details") == "商品详情"
    assert pgettext("refund", "Details") == "补充说明"


def test_order_numbers_carry_the_day_and_find_the_order(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    number = order_number(order_id=42, created_at=datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    assert number == "2026120500000042"  # 01:00 on the 5th in Shanghai
    assert order_id_from_number(number) == 42
    assert order_id_from_number("#42") == 42
    assert order_id_from_number("小红") is None


@pytest.mark.django_db
def test_the_refund_form_and_order_list_use_the_right_words(customer, buy, sku):
    from django.test import Client

    order = buy(customer, sku)
    web = Client()
    web.force_login(customer)
    listing = web.get("/orders/").content.decode()
    assert "实付" in listing
    assert "订单编号" in listing and "#" + str(order["id"]) not in listing
    form = web.get(f"/orders/{order['id']}/refund/").content.decode()
    assert "补充说明" in form and "商品详情" not in form
