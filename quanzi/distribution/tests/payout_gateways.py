"""WeChat Pay and Alipay stand-ins for the withdrawal tests (fixtures ``wechat`` and
``alipay``): they serve on 127.0.0.1 and any other name lookup fails the test."""

from __future__ import annotations

import pytest

from quanzi.payments.gateways import reset_gateways
from quanzi.payments.tests.standin import (
    AlipayStandIn,
    WechatPayStandIn,
    cert_pem,
    certificate,
    generated_key,
    local_network_only,
    private_pem,
    public_pem,
    write,
)

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APIV3_KEY = "Qz0123456789abcdefghijklmnopqrs9"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
ALIPAY_APP_ID = "2021000000000001"


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


@pytest.fixture
def alipay(settings, tmp_path, monkeypatch):
    stand_in = AlipayStandIn(
        app_id=ALIPAY_APP_ID,
        app_public_key=generated_key("alipay-app").public_key(),
        alipay_key=generated_key("alipay"),
    )
    with local_network_only(monkeypatch) as refused, stand_in.running():
        settings.QUANZI_ALIPAY_APP_ID = ALIPAY_APP_ID
        settings.QUANZI_ALIPAY_PRIVATE_KEY = write(
            tmp_path / "app_private.pem", private_pem(generated_key("alipay-app"))
        )
        settings.QUANZI_ALIPAY_PUBLIC_KEY = write(
            tmp_path / "alipay_public.pem", public_pem(generated_key("alipay"))
        )
        settings.QUANZI_ALIPAY_NOTIFY_URL = "https://shop.example.com/api/v1/payments/notify/alipay"
        settings.QUANZI_ALIPAY_GATEWAY_URL = stand_in.url + "/gateway.do"
        reset_gateways()
        yield stand_in
    reset_gateways()
    assert not refused, f"tried to reach {refused}"
