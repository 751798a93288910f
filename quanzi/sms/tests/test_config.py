"""The SMS settings: templates per topic, and start-up checks that name what is wrong."""

from __future__ import annotations

import pytest

from quanzi.core.errors import Invalid
from quanzi.sms import config
from quanzi.sms.checks import sms_settings_check


def test_templates_are_parsed_per_topic_with_their_fields():
    parsed = config.templates_parse("orders:1001, recommendations:1006:title ,groups:7:body+title")
    assert parsed["orders"] == config.Template(code="1001", fields=("title", "body"))
    assert parsed["recommendations"].fields == ("title",)
    assert parsed["groups"].fields == ("body", "title")


@pytest.mark.parametrize("text", ["parcels:1001", "orders:", "orders:1001:price"])
def test_a_malformed_template_list_is_refused_with_the_bad_part(text):
    with pytest.raises(Invalid) as refused:
        config.templates_parse(text)
    assert text in refused.value.message


def test_checks_name_an_unknown_provider_bad_templates_and_missing_keys(settings):
    settings.QUANZI_SMS_PROVIDER = "aliyun"
    settings.QUANZI_SMS_TEMPLATES = "orders"
    assert {p.id for p in sms_settings_check()} == {"quanzi.sms.E001", "quanzi.sms.E002"}
    assert config.provider() is None

    settings.QUANZI_SMS_PROVIDER = "tencent"
    settings.QUANZI_SMS_TEMPLATES = "orders:1001"
    settings.QUANZI_SMS_SECRET_ID = "AKID1"
    settings.QUANZI_SMS_SECRET_KEY = "k"
    settings.QUANZI_SMS_SDK_APP_ID = "1400000001"
    settings.QUANZI_SMS_SIGN_NAME = ""
    problems = sms_settings_check()
    assert [p.id for p in problems] == ["quanzi.sms.W001"]
    assert "QUANZI_SMS_SIGN_NAME" in problems[0].msg and config.provider() is None

    settings.QUANZI_SMS_SIGN_NAME = "圈子"
    assert sms_settings_check() == [] and config.provider().name == "tencent"
    assert config.template_for("orders").code == "1001"
    assert config.template_for("groups") is None  # no template: that topic is not texted

    settings.QUANZI_SMS_PROVIDER = ""
    assert sms_settings_check() == [] and config.template_for("orders") is None
