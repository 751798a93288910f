"""A withdrawal paid by WeChat Pay merchant transfer (商家转账), against the local
stand-in of the payments tests: nothing leaves 127.0.0.1."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import own_address, settle
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.payments.gateways import reset_gateways
from quanzi.payments.models import Payment
from quanzi.payments.tests.standin import (
    WechatPayStandIn,
    cert_pem,
    certificate,
    generated_key,
    local_network_only,
    private_pem,
    write,
)

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APIV3_KEY = "Qz0123456789abcdefghijklmnopqrs9"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


@pytest.fixture
def wechat(settings, tmp_path, monkeypatch):
    platform_key = generated_key("wechat-platform")
    stand_in = WechatPayStandIn(
        mchid=MCHID,
        appid=APPID,
        apiv3_key=APIV3_KEY,
        merchant_key=generated_key("wechat-merchant"),
        merchant_serial=SERIAL,
        platform_key=platform_key,
        platform_cert=certificate(platform_key, "WeChat Pay platform (test)"),
    )
    certs = tmp_path / "platform-certs"
    certs.mkdir()
    write(certs / f"{stand_in.platform_serial}.pem", cert_pem(stand_in.platform_cert))
    with local_network_only(monkeypatch) as refused, stand_in.running():
        settings.QUANZI_WECHATPAY_MCHID = MCHID
        settings.QUANZI_WECHATPAY_APPID = APPID
        settings.QUANZI_WECHATPAY_APIV3_KEY = APIV3_KEY
        settings.QUANZI_WECHATPAY_CERT_SERIAL_NO = SERIAL
        settings.QUANZI_WECHATPAY_PRIVATE_KEY = write(
            tmp_path / "apiclient_key.pem", private_pem(generated_key("wechat-merchant"))
        )
        settings.QUANZI_WECHATPAY_PLATFORM_CERTS_DIR = str(certs)
        settings.QUANZI_WECHATPAY_GATEWAY_URL = stand_in.url
        reset_gateways()
        yield stand_in
    reset_gateways()
    assert not refused, f"tried to reach {refused}"


def test_withdrawal_is_paid_to_the_distributors_wechat(wechat, people, make_product, dist_settings):
    dist_settings(payout_gateway="wechatpay", withdraw_min=100, withdraw_fee_bp=100)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=10_000, supply_price=4_000).skus.get()
    placed = buyer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": own_address(buyer).pk},
    ).json()
    paying = buyer.api.post(f"/orders/{placed['id']}/pay", {"gateway": "wechatpay"}).json()
    note = wechat.notification(Payment.objects.get(pk=paying["payment_id"]).out_trade_no)
    delivered = Client().post(
        "/api/v1/payments/notify/wechatpay",
        data=note["body"],
        content_type="application/json",
        headers=note["headers"],
    )
    assert delivered.status_code == 200
    settle(Order.objects.get(pk=placed["id"]))
    assert earnings_of(user=mid)["available"] == 1_000

    missing = mid.api.post("/me/withdrawals", {"amount": 500})
    assert missing.status_code == 422 and missing.json()["code"] == "payout_account_missing"
    account = mid.api.put("/me/distributor/payout-account", {"wechat_openid": "o-mid-0001"})
    assert account.status_code == 200 and account.json()["wechat_openid"] == "o-mid-0001"

    response = mid.api.post("/me/withdrawals", {"amount": 500})

    assert response.status_code == 201
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.status == "paid" and withdrawal.payee_ref == "openid:o-mid-0001"
    detail = wechat.batches[withdrawal.payout_no]["details"][withdrawal.payout_no]
    assert detail["openid"] == "o-mid-0001" and detail["transfer_amount"] == 495
    assert balance("gateway:wechatpay") == 10_000 - 495
    assert earnings_of(user=mid)["withdrawn"] == 500
