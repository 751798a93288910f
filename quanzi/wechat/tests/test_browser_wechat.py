"""The storefront in a WeChat user agent, in real headless Chromium: the 公众号 OAuth
round trip through the stand-in logs the shopper in, and product, group and bargain
pages set their share card with the JS-SDK (a stub of WeChat's script records it)."""

from __future__ import annotations

import re

import pytest

from quanzi.storefront.tests.browser import PHONE, Watch
from quanzi.storefront.tests.test_deals import logged_in, pay, place
from quanzi.wechat.models import Identity
from quanzi.wechat.tests.standin import Person
from quanzi.wechat.tests.test_web import WECHAT_UA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JSSDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
# WeChat's script, as far as the page uses it: it records what the page configured.
JSSDK_STUB = """
window.wx = {
  configured: null, shared: null, timeline: null,
  config: function (c) { this.configured = c; },
  ready: function (f) { f(); },
  updateAppMessageShareData: function (s) { this.shared = s; },
  updateTimelineShareData: function (s) { this.timeline = s; },
};
"""


@pytest.fixture
def wechat_phone(browser, live_server, wx, settings):
    settings.PUBLIC_URL = live_server.url
    settings.QUANZI_WECHAT_JSSDK_URL = JSSDK_URL
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        base_url=live_server.url,
    )
    context.set_default_timeout(15_000)
    watch = Watch(live_server.url)
    watch.attach(context)
    # Routes registered later run first: WeChat's authorize page (the stand-in) and its
    # JS-SDK (the stub) are the only hosts besides the shop the page may reach.
    context.route(f"{wx.url}/**", lambda route: route.continue_())
    context.route(
        JSSDK_URL,
        lambda route: route.fulfill(body=JSSDK_STUB, content_type="application/javascript"),
    )
    yield context.new_page()
    context.close()
    watch.check()


def _card(page):
    page.wait_for_function("window.wx && window.wx.shared !== null")
    return page.evaluate("({config: window.wx.configured, share: window.wx.shared})")


def test_wechat_login_and_share_cards_in_the_wechat_browser(
    wechat_phone,
    wx,
    live_server,
    deal,
    bargain_campaign,
    make_user,
    make_address,
):
    page = wechat_phone
    wx.oauth_person = Person(openid="o-browser-1", unionid="u-browser-1", nickname="微信小美")

    page.goto("/login/?next=/me/")
    page.click("a.btn.wechat")
    # (The browser keeps the authorize URL's "#wechat_redirect" through the redirects.)
    page.wait_for_url(re.compile(r"/me/(#wechat_redirect)?$"))
    identity = Identity.objects.select_related("user").get(openid="o-browser-1")
    # The silent (snsapi_base) login knows no nickname: the personal centre greets the
    # new account by the default one.
    assert identity.user.nickname == "微信用户" and "微信用户" in page.inner_text("main")

    product, _sku, _campaign = deal
    page.goto(f"/p/{product.pk}")
    card = _card(page)
    assert card["config"]["appId"] and card["config"]["signature"]
    assert card["share"]["title"] == product.title
    assert card["share"]["link"].startswith(f"{live_server.url}/s/")

    # A group a friend opened, and a bargain: their share pages set cards too.
    leader = make_user(nickname="团长")
    client = logged_in(leader)
    client.post("/group/start/", {"sku_id": _sku.pk, "qty": 1, "campaign_id": _campaign.pk})
    group_path = pay(client, place(client, make_address(leader)))
    page.goto(group_path)
    assert _card(page)["share"]["link"].startswith(f"{live_server.url}/s/")

    honey, bargain = bargain_campaign
    owner = logged_in(make_user(nickname="砍价王"))
    bargain_path = owner.post("/b/start/", {"campaign_id": bargain.pk})["Location"]
    page.goto(bargain_path)
    shared = _card(page)
    assert shared["share"]["title"] == honey.title
    assert shared["share"]["link"] != card["share"]["link"]
