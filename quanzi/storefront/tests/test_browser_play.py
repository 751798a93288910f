"""The lottery, bargaining and the 我的 lists in a phone browser."""

from __future__ import annotations

import pytest

from quanzi.storefront.tests.browser import accessible, shot
from quanzi.storefront.tests.test_browser_group import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shopper_draws_the_lottery_and_finds_the_prize_in_me(new_phone, live_server, make_user):
    from quanzi.rewards.lottery import lottery_create

    lottery = lottery_create(
        title="每日幸运抽奖",
        cost_points=0,
        free_draws_per_day=1,
        prizes=[{"name": "88 积分", "kind": "points", "weight": 1, "stock": 10, "points": 88}],
    )
    make_user(phone="13912340002", nickname="小抽")
    page = new_phone()
    log_in(page, "13912340002", "/me/")
    page.click("a[href='/lottery/']")
    page.wait_for_url(f"**/lottery/{lottery.pk}/")
    assert page.locator("#lottery-grid .cell[data-index]").count() == 8
    assert "今日还有 1 次免费抽奖" in page.inner_text(".lottery-hero")
    assert accessible(page) == []
    shot(page, "play-01-lottery")

    page.click("#lottery-go")
    page.wait_for_url("**/lottery/*/?draw=*")
    page.wait_for_selector("#prize-sheet:not([hidden])")
    assert page.inner_text("#prize-name") == "88 积分"
    shot(page, "play-02-lottery-prize-sheet")

    page.click("#prize-sheet a[href='/me/prizes/']")
    page.wait_for_url("**/me/prizes/")
    assert "88 积分" in page.inner_text("main")
    assert "已中奖" in page.inner_text("main")
    shot(page, "play-03-my-prizes")
    page.goto("/me/points/")
    assert "88" in page.inner_text(".wallet, main")


def test_a_bargain_starter_cuts_first_and_finds_it_in_my_bargains(
    new_phone, live_server, make_user, make_product
):
    from quanzi.bargain.services import campaign_create

    product = make_product(title="秦岭土蜂蜜", price=6800, images=["/static/demo/honey.jpg"])
    campaign_create(
        sku_id=product.skus.get().pk,
        start_price=6800,
        floor_price=990,
        helpers_min=4,
        helpers_max=6,
        ttl_seconds=86_400,
        per_user_limit=2,
        stock=10,
    )
    make_user(phone="13912340003", nickname="小砍")
    page = new_phone()
    log_in(page, "13912340003", f"/p/{product.pk}")
    assert page.locator("#buybar-bargain").is_visible()  # in the bottom bar, not below the fold
    shot(page, "play-04-product-bargain-bar")
    page.click("#buybar-bargain")
    page.wait_for_url("**/b/*")
    greeting = page.inner_text("#bargain-greeting")
    assert "邀请你" not in greeting and "我发起的砍价" in greeting
    assert "自砍一刀" in page.inner_text("main")
    assert "0 位好友已帮砍" in page.inner_text("main")  # her own cut is not a friend's
    assert "68.00" not in page.inner_text(".share-hero .price")  # the first cut is taken
    shot(page, "play-05-bargain-own-page")

    page.goto("/me/")
    page.click("a[href='/me/bargains/']")
    page.wait_for_url("**/me/bargains/")
    assert page.locator(".bargain-row").count() == 1
    assert "砍价中" in page.inner_text(".bargain-row")
    shot(page, "play-06-my-bargains")
