"""On phones, in real headless Chromium: a creator posts a note with two photos tagging
a product; a friend opens its share link, signs up, buys; the creator sees the order in
the creator centre."""

from __future__ import annotations

import pytest

from quanzi.content import services
from quanzi.content.models import CreatorCommission, Note
from quanzi.content.tests.conftest import image_bytes
from quanzi.orders.models import Order
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_creator_posts_a_note_a_friend_buys_through_its_link(
    new_phone, live_server, make_user, operator, make_product, tmp_path
):
    product = make_product(
        title="玻尿酸补水面膜", price=6900, supply_price=2900, images=["/static/demo/mask.jpg"]
    )
    creator = make_user(nickname="美妆小鹿", phone="13911110001")
    services.creator_apply(user=creator, intro="护肤")
    services.creator_decide(user_id=creator.pk, operator=operator, approve=True)
    photos = []
    for name, color in (("one.jpg", (220, 80, 90)), ("two.png", (60, 160, 200))):
        path = tmp_path / name
        path.write_bytes(
            image_bytes("JPEG" if name.endswith("jpg") else "PNG", size=(600, 800), color=color)
        )
        photos.append(str(path))

    # The creator logs in and posts a note with two photos, tagging the product.
    page = new_phone()
    page.goto("/login/?next=/notes/new/")
    page.fill("#id_phone", "13911110001")
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url("**/notes/new/")
    assert accessible(page) == []
    page.set_input_files("#images", photos)
    page.fill("#title", "换季补水就靠它")
    page.fill("#body", "每天一片，第二天上妆超服帖")
    page.fill("#topics", "#护肤 补水")
    page.check(f"input[name=product_ids][value='{product.pk}']")
    shot(page, "content-01-post")
    page.click("button[name=action][value=publish]")
    page.wait_for_url("**/n/*")
    note = Note.objects.get(title="换季补水就靠它")
    assert note.media_links.count() == 2 and note.status == "published"
    assert page.locator(".note-gallery img").count() == 2
    assert accessible(page) == []
    shot(page, "content-02-note")
    with page.expect_response("**/share/") as shared:
        page.click("[data-share-target=note]")
    share_url = shared.value.json()["url"]
    assert "/s/" in share_url

    # The friend opens the link, signs up, and buys the product from the note.
    friend = new_phone()
    friend.goto(share_url)
    friend.wait_for_url(f"**/n/{note.pk}")
    assert friend.locator(f".note-product[data-product='{product.pk}']").is_visible()
    friend.goto("/register/")
    friend.fill("#id_phone", "13922220002")
    friend.fill("#id_password", "secret123")
    friend.fill("#id_nickname", "闺蜜")
    friend.check("#id_agree")
    friend.click("main button[type=submit]")
    friend.wait_for_url(live_server.url + "/")
    friend.click("nav.tabbar a[href='/notes/']")
    friend.wait_for_url("**/notes/")
    assert friend.locator(".masonry .note-card").count() == 1
    shot(friend, "content-03-feed")
    friend.click(f".note-card[data-note='{note.pk}']")
    friend.wait_for_url(f"**/n/{note.pk}")
    friend.click(f".note-product[data-product='{product.pk}'] a.btn")
    friend.wait_for_url(f"**/p/{product.pk}")
    friend.click(".buybar button[formaction='/buy/']")
    friend.wait_for_url("**/checkout/")
    friend.click("a.btn[href^='/me/addresses/new/']")
    friend.wait_for_url("**/me/addresses/new/**")
    friend.fill("#id_name", "李闺蜜")
    friend.fill("#id_phone", "13922220002")
    friend.wait_for_selector("form[data-regions-ready]")
    friend.select_option("#id_province", "浙江省")
    friend.select_option("#id_city", "杭州市")
    friend.select_option("#id_district", "西湖区")
    friend.fill("#id_detail", "文三路 1 号")
    friend.click("main button[type=submit]")
    friend.wait_for_url("**/checkout/")
    friend.click("button[name=place]")
    friend.wait_for_url("**/orders/*/pay/")
    friend.click("main button[type=submit]")
    friend.wait_for_url("**/pay/sandbox/*")
    friend.click("#sandbox-pay")
    friend.wait_for_url("**/orders/*/")
    order = Order.objects.get(user__phone="13922220002")
    assert order.status == "to_ship"
    assert CreatorCommission.objects.get(order=order).note_id == note.pk

    # The creator sees the order in the creator centre.
    page.goto("/me/creator/")
    row = page.locator(f"#creator-orders tr[data-order='{order.pk}']")
    assert row.is_visible() and "玻尿酸补水面膜" in row.inner_text()
    assert page.inner_text("[data-stat=orders]") == "1"
    assert accessible(page) == []
    shot(page, "content-04-creator-centre")
