"""WeChat Pay JSAPI with the openid of the app the cashier opens in; keys made here."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from conftest import Api
from quanzi.accounts.services import token_issue
from quanzi.orders.models import Order
from quanzi.payments.models import Payment
from quanzi.payments.tests.standin import generated_key, rsa_verify
from quanzi.payments.tests.test_wechatpay import (  # noqa: F401 - fixtures
    APPID,
    _deliver,
    _order,
    no_internet,
    wechat,
)
from quanzi.wechat.identities import identity_login
from quanzi.wechat.models import WECHAT_MINI, WECHAT_MP
from quanzi.wechat.tests.conftest import MINI_APPID, MP_APPID
from quanzi.wechat.tests.test_web import WECHAT_UA

pytestmark = pytest.mark.django_db


@pytest.fixture
def wechatpay(wechat, wx):  # noqa: F811
    """WeChat Pay's stand-in taking orders for the merchant's, the mini-program's and
    the 公众号's app ids (each notification names the app of its trade)."""
    original_pay = wechat._pay
    apps = {APPID, MINI_APPID, MP_APPID}

    def pay(trade_type, data):
        wechat.appid = data.get("appid") if data.get("appid") in apps else APPID
        answer = original_pay(trade_type, data)
        if data.get("out_trade_no") in wechat.trades:
            wechat.trades[data["out_trade_no"]]["appid"] = data.get("appid")
        wechat.appid = APPID
        return answer

    wechat._pay = pay
    return wechat


def _verify(params, app_id):
    message = f"{app_id}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    return rsa_verify(generated_key("wechat-merchant").public_key(), message, params["paySign"])


def test_paying_from_the_mini_program_uses_the_mini_program_openid(
    wechatpay, anon, make_address, make_product
):
    user, _ = identity_login(provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-mini-pay")
    user.api = Api(token_issue(user=user))
    identity_login(provider=WECHAT_MP, app_id=MP_APPID, openid="o-mp-pay-2")  # someone else
    sku = make_product().skus.get()
    order = _order(user, sku, make_address)
    response = user.api.post(
        f"/orders/{order['id']}/pay", {"gateway": "wechatpay", "client": "wechat_mini"}
    )
    assert response.status_code == 200, response.content
    params = response.json()["params"]
    payment = Payment.objects.get(pk=response.json()["payment_id"])
    trade = wechatpay.trades[payment.out_trade_no]
    assert trade["trade_type"] == "JSAPI" and trade["openid"] == "o-mini-pay"
    assert trade["appid"] == MINI_APPID and params["appId"] == MINI_APPID
    assert params["package"] == f"prepay_id={trade['prepay_id']}" and params["signType"] == "RSA"
    assert _verify(params, MINI_APPID)  # wx.requestPayment accepts it
    # The notification names the mini-program's app id: it is WeChat Pay's, and captured.
    wechatpay.appid = MINI_APPID
    note = wechatpay.notification(payment.out_trade_no)
    wechatpay.appid = APPID
    assert _deliver(anon, note).status_code == 200
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_the_official_account_cashier_uses_its_own_openid_and_a_new_trade(
    wechatpay, make_address, make_product
):
    user, _ = identity_login(
        provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-mini-pay", unionid="u-p"
    )
    identity_login(provider=WECHAT_MP, app_id=MP_APPID, openid="o-mp-pay", unionid="u-p")
    user.api = Api(token_issue(user=user))
    order = _order(user, make_product().skus.get(), make_address)
    pay = f"/orders/{order['id']}/pay"
    mini = user.api.post(pay, {"gateway": "wechatpay", "client": "wechat_mini"}).json()
    mini_again = user.api.post(pay, {"gateway": "wechatpay", "client": "wechat_mini"}).json()
    assert mini_again["payment_id"] == mini["payment_id"]  # resumed, not a second trade
    mp = user.api.post(pay, {"gateway": "wechatpay", "client": "wechat_mp"}).json()
    assert mp["payment_id"] != mini["payment_id"]
    trade = wechatpay.trades[Payment.objects.get(pk=mp["payment_id"]).out_trade_no]
    assert trade["openid"] == "o-mp-pay" and mp["params"]["appId"] == MP_APPID
    assert _verify(mp["params"], MP_APPID)
    # Without a client the shopper gets the QR code (NATIVE) as before.
    native = user.api.post(pay, {"gateway": "wechatpay"}).json()
    assert native["params"]["trade_type"] == "NATIVE"


def test_a_client_the_shopper_never_logged_in_to_is_a_clear_422(
    wechatpay, customer, make_address, make_product
):
    order = _order(customer, make_product().skus.get(), make_address)
    response = customer.api.post(
        f"/orders/{order['id']}/pay", {"gateway": "wechatpay", "client": "wechat_mini"}
    )
    assert response.status_code == 422 and response.json()["code"] == "payer_unknown"
    bad = customer.api.post(
        f"/orders/{order['id']}/pay", {"gateway": "wechatpay", "client": "alipay_app"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_the_cashier_in_wechat_pays_with_the_official_account_openid(
    wechatpay, make_address, make_product
):
    user, _ = identity_login(provider=WECHAT_MP, app_id=MP_APPID, openid="o-mp-cashier")
    user.api = Api(token_issue(user=user))
    order = _order(user, make_product().skus.get(), make_address)
    inside = Client(HTTP_USER_AGENT=WECHAT_UA)
    inside.force_login(user)
    page = inside.get(f"/orders/{order['id']}/pay/")
    assert b'value="wechatpay"' in page.content
    answer = inside.post(f"/orders/{order['id']}/pay/", {"gateway": "wechatpay"})
    found = re.search(
        rb'<script id="wechat-pay" type="application/json">(.*?)</script>', answer.content
    )
    params = json.loads(found.group(1))
    payment = Payment.objects.get(order_id=order["id"])
    trade = wechatpay.trades[payment.out_trade_no]
    assert trade["openid"] == "o-mp-cashier" and params["appId"] == MP_APPID
    assert _verify(params, MP_APPID)
    # The same shopper in an ordinary browser gets WeChat Pay's QR code.
    outside = Client()
    outside.force_login(user)
    answer = outside.post(f"/orders/{order['id']}/pay/", {"gateway": "wechatpay"})
    assert b'id="wechat-pay-qr"' in answer.content and b"data:image/png;base64," in answer.content
    assert b'id="wechat-pay"' not in answer.content
