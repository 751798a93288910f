"""Operator settings (secrets masked, env first) and WeChat's text security check."""

from __future__ import annotations

import pytest

from conftest import Api
from quanzi.core.moderation import check_text
from quanzi.core.platform_settings import settings_update
from quanzi.wechat.config import mini_app, mp_app
from quanzi.wechat.identities import identity_login
from quanzi.wechat.models import WECHAT_MINI
from quanzi.wechat.tests.conftest import MINI_APPID

pytestmark = pytest.mark.django_db


def test_secrets_are_never_returned_and_a_masked_secret_written_back_is_kept(operator, settings):
    settings.QUANZI_WECHAT_MP_APPID = settings.QUANZI_WECHAT_MP_SECRET = ""
    body = {"wechat": {"mp": {"app_id": "wxabcdef12345678", "app_secret": "s3cr3t-value-9876"}}}
    written = operator.api.put("/admin/settings", body)
    assert written.status_code == 200, written.content
    assert "s3cr3t-value" not in written.content.decode()
    shown = operator.api.get("/admin/settings").json()["wechat"]["mp"]
    assert shown == {"app_id": "wxabcdef12345678", "app_secret": "****9876"}
    # The dashboard sends the form back as shown: the secret stays what it was.
    again = operator.api.put("/admin/settings", {"wechat": {"mp": shown}})
    assert again.status_code == 200
    app = mp_app()
    assert app.app_id == "wxabcdef12345678" and app.secret == "s3cr3t-value-9876"
    bad = operator.api.put("/admin/settings", {"wechat": {"mp": {"app_id": "not an app id"}}})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_setting"


def test_environment_variables_take_precedence_and_nothing_is_on_by_default(settings, db):
    for name in ("MINI_APPID", "MINI_SECRET", "MP_APPID", "MP_SECRET"):
        setattr(settings, f"QUANZI_WECHAT_{name}", "")
    assert mini_app() is None and mp_app() is None
    settings_update(patch={"wechat": {"mini": {"app_id": "wxstored00000001", "app_secret": "x"}}})
    assert mini_app().app_id == "wxstored00000001"
    settings.QUANZI_WECHAT_MINI_APPID, settings.QUANZI_WECHAT_MINI_SECRET = "wxenv0000000001", "y"
    assert (mini_app().app_id, mini_app().secret) == ("wxenv0000000001", "y")
    assert Api().get("/wechat/jssdk-config?url=https://shop.example.com/p/1").status_code == 404


def test_the_text_check_refuses_risky_and_holds_review_when_turned_on(wx):
    wx.state.words = {"赌博": "risky", "代购": "review"}
    user, _ = identity_login(provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-safe-1")
    assert check_text("赌博大神", kind="nickname", user_id=user.pk).allowed  # off by default
    settings_update(patch={"wechat": {"content_check": True}})
    assert check_text("赌博大神", kind="nickname", user_id=user.pk).refused
    assert check_text("正品代购", kind="nickname", user_id=user.pk).held
    assert check_text("小红", kind="nickname", user_id=user.pk).allowed
    asked = [body for path, _, body in wx.state.log if path == "/wxa/msg_sec_check"]
    assert asked[0] == {"content": "赌博大神", "version": 2, "scene": 1, "openid": "o-safe-1"}
    # WeChat down: the check has nothing to say, publishing does not stop.
    wx.fail("/wxa/msg_sec_check", "timeout")
    assert check_text("赌博大神", kind="nickname", user_id=user.pk).allowed


def test_a_refused_nickname_from_wechat_is_replaced(wx):
    from quanzi.wechat.identities import Signup

    wx.state.words = {"赌博": "risky"}
    settings_update(patch={"wechat": {"content_check": True}})
    user, _ = identity_login(
        provider=WECHAT_MINI,
        app_id=MINI_APPID,
        openid="o-safe-2",
        signup=Signup(nickname="赌博大神"),
    )
    user.refresh_from_db()
    assert user.nickname == "微信用户"


def test_a_nickname_change_in_the_shop_goes_through_wechats_check(wx):
    from django.test import Client

    wx.state.words = {"赌博": "risky", "代购": "review"}
    settings_update(patch={"wechat": {"content_check": True}})
    user, _ = identity_login(provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-safe-3")
    browser = Client()
    browser.force_login(user)
    for refused in ("赌博大神", "正品代购"):
        page = browser.post("/me/profile/?lang=en", {"nickname": refused})
        assert page.status_code == 200 and b"This nickname cannot be used." in page.content
    user.refresh_from_db()
    assert user.nickname == "微信用户"
    assert browser.post("/me/profile/", {"nickname": "小红"}).status_code == 302
    user.refresh_from_db()
    assert user.nickname == "小红"
