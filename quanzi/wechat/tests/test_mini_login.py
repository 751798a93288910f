"""Mini-program login against the local WeChat stand-in: one user per unionid, the
share link of a first login binds the sharer, bad codes and WeChat's errors are clear."""

from __future__ import annotations

import pytest

from conftest import Api
from quanzi.accounts.models import User
from quanzi.wechat.identities import identity_login
from quanzi.wechat.models import WECHAT_MINI, WECHAT_MP, Identity, UnionAccount
from quanzi.wechat.tests.conftest import MINI_APPID, MP_APPID
from quanzi.wechat.tests.standin import Person

pytestmark = pytest.mark.django_db


def _login(wx, person, **extra):
    code = wx.code_for(MINI_APPID, person)
    return Api().post("/auth/wechat/mini", {"code": code, **extra})


def test_first_login_makes_a_user_and_the_second_returns_the_same(wx):
    person = Person(openid="o-mini-1", unionid="u-1")
    first = _login(wx, person)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["is_new"] is True and body["token"]
    me = Api(body["token"]).get("/me").json()
    assert me["id"] == body["user_id"] and me["phone"] == ""  # no phone until bound
    again = _login(wx, person).json()
    assert again["user_id"] == body["user_id"] and again["is_new"] is False
    assert again["token"] != body["token"]
    identity = Identity.objects.get(user_id=body["user_id"])
    assert (identity.provider, identity.app_id, identity.openid, identity.unionid) == (
        WECHAT_MINI,
        MINI_APPID,
        "o-mini-1",
        "u-1",
    )


def test_the_session_key_is_kept_encrypted_and_never_returned(wx):
    person = Person(openid="o-mini-2")
    response = _login(wx, person)
    assert person.session_key not in response.content.decode()
    identity = Identity.objects.get(openid="o-mini-2")
    assert identity.session_key_enc and person.session_key not in identity.session_key_enc


def test_one_unionid_is_one_user_across_the_mini_program_and_the_official_account(wx):
    mini_user, new = identity_login(
        provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-mini-3", unionid="u-3"
    )
    mp_user, mp_new = identity_login(
        provider=WECHAT_MP, app_id=MP_APPID, openid="o-mp-3", unionid="u-3"
    )
    assert new is True and mp_new is False and mp_user.pk == mini_user.pk
    assert Identity.objects.filter(user=mini_user).count() == 2
    assert User.objects.count() == 1 and UnionAccount.objects.get().user_id == mini_user.pk


def test_without_a_unionid_two_apps_are_two_users(wx):
    a, _ = identity_login(provider=WECHAT_MINI, app_id=MINI_APPID, openid="o-a")
    b, _ = identity_login(provider=WECHAT_MP, app_id=MP_APPID, openid="o-b")
    assert a.pk != b.pk


def test_a_share_token_at_first_login_binds_the_sharer_once(wx, make_user, make_product):
    sharer = make_user(nickname="分享者")
    product = make_product()
    share = sharer.api.post("/shares", {"target": "product", "target_id": product.pk}).json()
    person = Person(openid="o-mini-4", unionid="u-4")
    first = _login(wx, person, share_token=share["token"]).json()
    user = User.objects.get(pk=first["user_id"])
    assert user.referrer_id == sharer.pk and user.referrer_source
    other = make_user()
    again = _login(wx, person, share_token="unknown").json()
    other_share = other.api.post("/shares", {"target": "product", "target_id": product.pk})
    third = _login(wx, person, share_token=other_share.json()["token"]).json()
    assert again["user_id"] == third["user_id"] == user.pk
    user.refresh_from_db()
    assert user.referrer_id == sharer.pk  # a returning user is never re-bound


def test_an_invite_code_binds_the_referrer_and_an_unknown_one_is_refused(wx, make_user):
    inviter = make_user()
    refused = _login(wx, Person(openid="o-mini-5"), invite_code="NOSUCH99")
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_invite_code"
    assert not Identity.objects.filter(openid="o-mini-5").exists()
    ok = _login(wx, Person(openid="o-mini-5"), invite_code=inviter.invite_code).json()
    assert User.objects.get(pk=ok["user_id"]).referrer_id == inviter.pk


def test_an_invalid_or_replayed_code_is_a_clear_422(wx):
    bad = Api().post("/auth/wechat/mini", {"code": "made-up"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_wechat_code"
    assert bad.json()["detail"]["errcode"] == 40029
    code = wx.code_for(MINI_APPID, Person(openid="o-mini-6"))
    assert Api().post("/auth/wechat/mini", {"code": code}).status_code == 200
    replay = Api().post("/auth/wechat/mini", {"code": code})
    assert replay.status_code == 422 and replay.json()["code"] == "wechat_code_used"
    empty = Api().post("/auth/wechat/mini", {"code": ""})
    assert empty.status_code == 422 and empty.json()["code"] == "validation_error"


def test_wechat_rate_limit_and_timeout_are_told_apart_from_bad_input(wx):
    wx.fail("/sns/jscode2session", 45011)
    limited = _login(wx, Person(openid="o-mini-7"))
    assert limited.status_code == 429 and limited.json()["code"] == "wechat_rate_limited"
    wx.fail("/sns/jscode2session", "timeout")
    slow = _login(wx, Person(openid="o-mini-7"))
    assert slow.status_code == 503 and slow.json()["code"] == "wechat_unavailable"
    assert not Identity.objects.filter(openid="o-mini-7").exists()


def test_without_a_configured_mini_program_the_login_is_404(wx, settings):
    settings.QUANZI_WECHAT_MINI_APPID = ""
    response = Api().post("/auth/wechat/mini", {"code": "x"})
    assert response.status_code == 404 and response.json()["code"] == "wechat_not_configured"
