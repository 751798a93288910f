"""The SMS toggle of each topic: off unless turned on, kept when a client leaves it out,
and on the notification settings page only where texts can be sent."""

import pytest

from quanzi.recommend.models import Preference

pytestmark = pytest.mark.django_db

BODY = {
    "topics": {"orders": True, "promotions": True},
    "keywords": {"follow": [], "never": []},
    "quiet_hours": {"start": 22, "end": 8},
    "frequency": "weekly",
    "daily_cap": 3,
    "show_purchases": False,
}


def test_sms_topics_are_off_by_default_saved_by_put_and_kept_when_left_out(make_user):
    me = make_user()
    got = me.api.get("/me/notification-preferences").json()
    assert set(got["sms"]) == {
        "orders",
        "groups",
        "bargains",
        "commissions",
        "promotions",
        "recommendations",
    }
    assert not any(got["sms"].values())

    saved = me.api.put("/me/notification-preferences", {**BODY, "sms": {"orders": True}})
    assert saved.status_code == 200, saved.content
    assert saved.json()["sms"]["orders"] is True and saved.json()["sms"]["groups"] is False

    again = me.api.put("/me/notification-preferences", {**BODY, "daily_cap": 1})  # no "sms"
    assert again.json()["sms"]["orders"] is True and again.json()["daily_cap"] == 1
    assert Preference.objects.get(user=me).sms_topics["orders"] is True

    bad = me.api.put("/me/notification-preferences", {**BODY, "sms": {"orders": "maybe"}})
    assert bad.status_code == 422


def test_the_settings_page_offers_sms_toggles_only_where_texts_can_be_sent(
    make_user, client, settings
):
    me = make_user()
    client.force_login(me)
    settings.QUANZI_SMS_PROVIDER = ""
    assert "sms_orders" not in client.get("/me/push-settings/").content.decode()

    settings.QUANZI_SMS_PROVIDER = "console"
    page = client.get("/me/push-settings/").content.decode()
    assert "sms_orders" in page and "短信通知" in page
    assert f"发送到 {me.phone[:3]}****{me.phone[-4:]}" in page
    client.post(
        "/me/push-settings/",
        {"topic_orders": "on", "sms_orders": "on", "quiet_start": "22", "quiet_end": "8"},
    )
    pref = Preference.objects.get(user=me)
    assert pref.sms_topics["orders"] is True and pref.sms_topics["promotions"] is False
    assert 'name="sms_orders" checked' in client.get("/me/push-settings/").content.decode()

    # Without texts on this shop the page leaves the person's text choices as they were.
    settings.QUANZI_SMS_PROVIDER = ""
    client.post("/me/push-settings/", {"topic_orders": "on", "quiet_start": "22"})
    assert Preference.objects.get(user=me).sms_topics["orders"] is True


def test_an_account_without_a_phone_number_is_asked_to_bind_one(client, settings):
    from quanzi.accounts.services import user_register_external

    settings.QUANZI_SMS_PROVIDER = "console"
    me = user_register_external(nickname="微信用户")
    client.force_login(me)
    page = client.get("/me/push-settings/").content.decode()
    assert 'id="sms-no-phone"' in page and "sms_orders" not in page
