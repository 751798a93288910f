"""A flash sale in a real browser (390×844) with the gate in queue mode: the countdown
runs out and the page opens the sale, the shopper grabs the last unit, waits in the
queue while the writer has not written the order, lands on paying it; the sale then
shows sold out."""

from __future__ import annotations

import pytest

from quanzi.flash import writer
from quanzi.flash.models import FlashItem, FlashOrder
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, phone: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_countdown_then_queueing_then_paying_then_sold_out(
    redis_queue_no_writer, new_phone, make_sale, make_buyer
):
    shopper = make_buyer()
    page = new_phone()
    log_in(page, shopper.phone, "/flash/")
    sale = make_sale(allotment=1, limit=1, starts_in=6)
    item = FlashItem.objects.get(sale_id=sale["id"])
    page.goto("/flash/")
    section = page.locator(f"section.flash-sale[data-sale='{sale['id']}']")
    assert section.get_attribute("data-state") == "scheduled"
    assert "距开抢" in section.inner_text()
    assert section.locator("button[disabled]").inner_text().strip() == "未开始"
    assert accessible(page) == []
    shot(page, "flash-01-countdown")

    # The countdown reaches zero and reloads the page: the sale is open.
    page.wait_for_selector(
        f"section.flash-sale[data-sale='{sale['id']}'][data-state='open']", timeout=30_000
    )
    page.click(f"section.flash-sale[data-sale='{sale['id']}'] button[type=submit]")
    page.wait_for_url("**/flash/tickets/*/")
    assert page.locator(".flash-ticket").get_attribute("data-state") == "queued"
    assert "正在为你生成订单" in page.inner_text("main")
    assert accessible(page) == []
    shot(page, "flash-02-queueing")

    # The writer writes the order; the page, reloading itself, moves on to paying.
    assert writer.write_batch(item_id=item.pk) == 1
    order_id = FlashOrder.objects.get(item=item, user=shopper).order_id
    page.wait_for_url(f"**/orders/{order_id}/pay/")
    shot(page, "flash-03-pay")

    page.goto("/flash/")
    assert "已售罄" in page.locator(f"section.flash-sale[data-sale='{sale['id']}']").inner_text()
    shot(page, "flash-04-sold-out")
