from __future__ import annotations

import pytest

from quanzi.sms.tests.standin import FakeTencentSms

TEMPLATES = (
    "orders:1001,groups:1002,bargains:1003,commissions:1004,promotions:1005,"
    "recommendations:1006:title"
)


@pytest.fixture(scope="session")
def _sms_server():
    fake = FakeTencentSms()
    yield fake
    fake.stop()


@pytest.fixture
def sms(_sms_server, settings):
    """The stand-in, fresh, with Tencent Cloud SMS configured to reach it."""
    fake = _sms_server
    fake.reset()
    settings.QUANZI_SMS_PROVIDER = "tencent"
    settings.QUANZI_SMS_SECRET_ID = "AKIDtest0000000000000000"
    settings.QUANZI_SMS_SECRET_KEY = "test-secret-key"
    settings.QUANZI_SMS_SDK_APP_ID = "1400000001"
    settings.QUANZI_SMS_SIGN_NAME = "圈子"
    settings.QUANZI_SMS_ENDPOINT = fake.url
    settings.QUANZI_SMS_TEMPLATES = TEMPLATES
    return fake
