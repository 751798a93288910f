"""The H5 storefront in WeChat's browser: the 公众号 OAuth round trip, the JS-SDK
signature and the share cards; outside WeChat (or unconfigured) nothing changes."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from conftest import Api
from quanzi.accounts.models import User
from quanzi.wechat.models import WECHAT_MP, Identity
from quanzi.wechat.tests.conftest import MP_APPID
from quanzi.wechat.tests.standin import Person

pytestmark = pytest.mark.django_db

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)


def _wechat_browser() -> Client:
    return Client(HTTP_USER_AGENT=WECHAT_UA)


def _round_trip(wx, browser: Client, *, scope="base", next_url="/me/"):
    """Follow the redirect to the stand-in's authorize page and back."""
    start = browser.get(f"/wechat/oauth/?scope={scope}&next={next_url}")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{wx.url}/connect/oauth2/authorize?")
    assert authorize.endswith("#wechat_redirect")
    query = parse_qs(urlsplit(authorize).query)
    assert query["appid"] == [MP_APPID]
    assert query["scope"] == [{"base": "snsapi_base", "userinfo": "snsapi_userinfo"}[scope]]
    consent = requests.get(authorize.split("#")[0], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/wechat/oauth/callback"
    return browser.get(f"{back.path}?{back.query}"), parse_qs(back.query)


def test_the_oauth_round_trip_logs_the_shopper_in(wx):
    wx.oauth_person = Person(openid="o-mp-web", unionid="u-web", nickname="阿花")
    browser = _wechat_browser()
    done, _ = _round_trip(wx, browser, scope="userinfo", next_url="/me/")
    assert done.status_code == 302 and done["Location"] == "/me/"
    user = User.objects.get(wechat_identities__openid="o-mp-web")
    assert user.nickname == "阿花"
    assert browser.get("/me/").context["user"].pk == user.pk
    # Again, silently: the same account.
    again = _wechat_browser()
    _round_trip(wx, again, scope="base")
    assert Identity.objects.filter(provider=WECHAT_MP).count() == 1
    assert User.objects.count() == 1


def test_a_wrong_replayed_or_foreign_state_is_a_400_with_a_code(wx):
    wx.oauth_person = Person(openid="o-mp-web-2")
    browser = _wechat_browser()
    done, query = _round_trip(wx, browser)
    assert done.status_code == 302
    replay = browser.get(
        f"/wechat/oauth/callback?code={query['code'][0]}&state={query['state'][0]}"
    )
    assert replay.status_code == 422 and b"invalid_oauth_state" in replay.content
    wrong = browser.get("/wechat/oauth/callback?code=x&state=made-up")
    assert wrong.status_code == 422 and b"invalid_oauth_state" in wrong.content
    # A state made for another browser session is refused there.
    other = _wechat_browser()
    start = other.get("/wechat/oauth/").headers["Location"]
    state = parse_qs(urlsplit(start).query)["state"][0]
    stolen = _wechat_browser().get(f"/wechat/oauth/callback?code=x&state={state}")
    assert stolen.status_code == 422 and b"invalid_oauth_state" in stolen.content
    # A made-up code with a good state: WeChat's 40029 as a clear 422.
    start = browser.get("/wechat/oauth/").headers["Location"]
    state = parse_qs(urlsplit(start).query)["state"][0]
    bad_code = browser.get(f"/wechat/oauth/callback?code=made-up&state={state}")
    assert bad_code.status_code == 422 and b"invalid_wechat_code" in bad_code.content


def test_the_jssdk_signature_is_wechats_sha1_over_the_ticket(wx):
    url = "http://testserver/p/1?from=share#top"
    response = Api().get(f"/wechat/jssdk-config?url={requests.utils.quote(url, safe='')}")
    assert response.status_code == 200, response.content
    config = response.json()
    ticket = next(iter(wx.state.tickets))
    plain = (
        f"jsapi_ticket={ticket}&noncestr={config['nonce_str']}"
        f"&timestamp={config['timestamp']}&url=http://testserver/p/1?from=share"
    )
    assert config["app_id"] == MP_APPID
    assert config["signature"] == hashlib.sha1(plain.encode()).hexdigest()
    Api().get(f"/wechat/jssdk-config?url={requests.utils.quote(url, safe='')}")
    assert wx.state.calls["/cgi-bin/ticket/getticket"] == 1  # the ticket is cached
    bad = Api().get("/wechat/jssdk-config?url=javascript:alert(1)")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_url"


def _share(response) -> dict | None:
    match = re.search(
        rb'<script id="wechat-share" type="application/json">(.*?)</script>', response.content
    )
    return json.loads(match.group(1)) if match else None


def test_share_cards_carry_the_sharers_token_on_product_pages(wx, make_user, make_product):
    product = make_product(title="阿克苏苹果", images=["/static/demo/apple.jpg"])
    sharer = make_user()
    browser = _wechat_browser()
    browser.force_login(sharer)
    card = _share(browser.get(f"/p/{product.pk}"))
    assert card["config"]["appId"] == MP_APPID and card["config"]["signature"]
    assert "updateAppMessageShareData" in card["config"]["jsApiList"]
    assert card["share"]["title"] == "阿克苏苹果"
    token = card["share"]["link"].rsplit("/s/", 1)[1]
    opened = Client().get(f"/s/{token}")
    assert opened.status_code == 302 and opened["Location"].endswith(f"/p/{product.pk}")
    # Outside WeChat, or without a 公众号, the page is as it was.
    outside = Client()
    outside.force_login(sharer)
    assert _share(outside.get(f"/p/{product.pk}")) is None
    assert b"Log in with WeChat" not in Client().get("/login/").content


def test_without_an_official_account_nothing_wechat_shows(wx, settings, make_product):
    settings.QUANZI_WECHAT_MP_APPID = ""
    product = make_product()
    assert _share(_wechat_browser().get(f"/p/{product.pk}")) is None
    login_page = _wechat_browser().get("/login/?lang=en")
    assert login_page.status_code == 200 and b"/wechat/oauth/" not in login_page.content
    assert _wechat_browser().get("/wechat/oauth/").status_code == 404
    config = Api().get("/wechat/jssdk-config?url=http://testserver/")
    assert config.status_code == 404 and config.json()["code"] == "wechat_not_configured"


def test_the_login_page_in_wechat_offers_the_wechat_button(wx):
    page = _wechat_browser().get("/login/?next=/cart/")
    assert b"/wechat/oauth/?scope=base&amp;next=/cart/" in page.content


def test_old_oauth_states_are_pruned(wx):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.wechat.jobs import wechat_oauth_states_prune
    from quanzi.wechat.models import OAuthState

    _wechat_browser().get("/wechat/oauth/")
    _wechat_browser().get("/wechat/oauth/")
    OAuthState.objects.filter(pk=OAuthState.objects.first().pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert wechat_oauth_states_prune() == 1 and OAuthState.objects.count() == 1


def test_a_share_link_opened_before_the_oauth_login_binds_the_sharer(wx, make_user, make_product):
    sharer = make_user(nickname="分享者")
    product = make_product()
    token = sharer.api.post("/shares", {"target": "product", "target_id": product.pk}).json()
    wx.oauth_person = Person(openid="o-mp-shared", unionid="u-shared")
    browser = _wechat_browser()
    assert browser.get(f"/s/{token['token']}").status_code == 302
    done, _ = _round_trip(wx, browser, next_url=f"/p/{product.pk}")
    assert done.status_code == 302 and done["Location"] == f"/p/{product.pk}"
    user = User.objects.get(wechat_identities__openid="o-mp-shared")
    assert user.referrer_id == sharer.pk
