"""A circle in real browsers (390×844): a shopper finds a circle by label, joins through
an invitation link, buys a circle-only group deal; the owner sees the new member and the
sale on the health page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from quanzi.circles.health import circle_health_compute
from quanzi.circles.models import Membership, Sale
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, phone: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_a_shopper_joins_by_invitation_and_buys_the_circle_deal(
    new_phone, make_user, make_address, make_product, make_circle, labels, operator
):
    from quanzi.circles.members import invite_create
    from quanzi.groupbuy.services import campaign_create

    product = make_product(title="儿童登山鞋", price=19900, supply_price=9000, stock=20)
    sku = product.skus.get()
    campaign = campaign_create(
        title="登山鞋 2 人团",
        skus=[{"sku_id": sku.pk, "group_price": 15900}],
        group_size=2,
        group_ttl_seconds=3600,
        per_user_limit=2,
        stock=10,
        commission_enabled=True,
    )
    circle = make_circle(name="亲子徒步圈", label="户外", join_policy="invite")
    make_circle(name="宝妈互助圈", label="母婴")
    operator.api.post(f"/admin/circles/{circle.pk}/deals", {"kind": "group", "ref_id": campaign.pk})
    token = invite_create(circle_id=circle.pk, user=circle.owner).token
    shopper = make_user(nickname="徒步妈妈")
    make_address(shopper)

    page = new_phone()
    log_in(page, shopper.phone, "/circles/")
    page.click(f".circle-labels a[data-label='{labels['户外'].pk}']")
    page.wait_for_url("**/circles/?label=*")
    assert "宝妈互助圈" not in page.inner_text("main")
    page.click(f"a.circle-card[data-circle='{circle.pk}']")
    page.wait_for_url(f"**/circles/{circle.pk}/")
    assert page.locator("#join-circle").count() == 0  # invitation only
    shot(page, "circles-01-found-by-label")

    page.goto(f"/circles/{circle.pk}/?invite={token}")
    assert accessible(page) == []
    page.click("#join-circle")
    expect(page.locator("#leave-circle")).to_have_count(1)  # same address: wait for the answer
    assert Membership.objects.get(circle=circle, user=shopper).invited_by_id == circle.owner_id
    shot(page, "circles-02-joined")

    page.goto(f"/circles/{circle.pk}/buy/")
    assert "159.00" in page.inner_text(".circle-deal")
    shot(page, "circles-03-circle-buy")
    page.click("#circle-group-buy")
    page.wait_for_url("**/checkout/")
    page.click("button[name=place]")
    page.wait_for_url("**/orders/*/pay/")
    page.click("main button[type=submit]")
    page.wait_for_url("**/pay/sandbox/*")
    page.click("#sandbox-pay")
    page.wait_for_url("**/g/*")
    sale = Sale.objects.get(user=shopper)
    assert sale.circle_id == circle.pk and sale.paid_at is not None

    circle_health_compute(circle=circle)  # the daily job
    owner = new_phone()
    log_in(owner, circle.owner.phone, f"/circles/{circle.pk}/health/")
    assert owner.inner_text("#h-members") == "2"
    assert owner.inner_text("#h-orders") == "1"
    assert owner.inner_text("#h-gmv") == "159.00"
    shot(owner, "circles-04-owner-health")
    owner.goto(f"/circles/{circle.pk}/members/")
    assert "徒步妈妈" in owner.inner_text("main")
