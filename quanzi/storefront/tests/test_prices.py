"""One price per viewer: the product page, the cart, checkout and the API agree on what a
member, a group leader and a visitor pay, and say what they save."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.storefront import cart as session_cart

pytestmark = pytest.mark.django_db


def make_member(operator, user) -> None:
    plan = operator.api.post(
        "/admin/membership-plans", {"name": "年卡", "price": 9900, "duration_days": 365}
    ).json()
    bought = user.api.post(f"/membership-plans/{plan['id']}/buy").json()
    payment = user.api.post(f"/orders/{bought['order_id']}/pay", {"gateway": "sandbox"}).json()
    assert user.api.post(f"/payments/sandbox/{payment['payment_id']}/complete").status_code == 200


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_is_quoted_the_member_price_everywhere(operator, customer, make_product):
    sku = make_product(price=3990, member_price=2990).skus.get()
    visitor_view = Client().get(f"/p/{sku.product_id}").content.decode()
    assert "会员省" not in visitor_view

    make_member(operator, customer)
    quote = customer.api.get(f"/skus/{sku.pk}/quote").json()
    assert quote == {
        "sku_id": sku.pk,
        "channel": "normal",
        "retail": 3990,
        "price": 2990,
        "saving": 1000,
        "kind": "member",
    }
    web = client_for(customer)
    page = web.get(f"/p/{sku.product_id}").content.decode()
    assert "会员省 ¥10.00" in page and "29<small>.90" in page

    web.post("/cart/add/", {"sku_id": sku.pk, "qty": 2})
    cart = web.get("/cart/")
    assert cart.context["total"] == 5980
    assert "会员省 ¥20.00" in cart.content.decode()
    web.post("/cart/checkout/", {"sku": [sku.pk]})
    checkout = web.get("/checkout/")
    assert checkout.context["preview"].priced.goods_paid == 5980
    assert "会员省 ¥20.00" in checkout.content.decode()


def test_a_visitor_and_a_non_member_are_quoted_retail(customer, make_product):
    sku = make_product(price=3990, member_price=2990).skus.get()
    quote = customer.api.get(f"/skus/{sku.pk}/quote").json()
    assert (quote["price"], quote["kind"], quote["saving"]) == (3990, "retail", 0)
    lines = session_cart.cart_lines({"quanzi_cart": {str(sku.pk): 1}}, user=None)
    assert lines[0].unit_price == 3990


def test_opening_a_group_is_quoted_and_labelled_at_the_leader_price(customer, make_product):
    from quanzi.groupbuy.services import campaign_create

    sku = make_product(price=3990).skus.get()
    campaign = campaign_create(
        title="两人团",
        skus=[{"sku_id": sku.pk, "group_price": 2990, "leader_price": 2490}],
        group_size=2,
        group_ttl_seconds=3600,
        per_user_limit=5,
        stock=50,
    )
    leader = customer.api.get(
        f"/skus/{sku.pk}/quote?channel=group&campaign_id={campaign.pk}"
    ).json()
    assert (leader["price"], leader["kind"]) == (2490, "leader")
    page = client_for(customer).get(f"/p/{sku.product_id}").content.decode()
    assert "开团 · 团长价" in page and "24<small>.90" in page


def test_the_membership_page_shows_growth_in_points_and_readable_prices(operator, customer):
    from quanzi.membership.models import GrowthEntry, MemberLevel, MemberProfile

    operator.api.post(
        "/admin/membership-plans", {"name": "年卡", "price": 9900, "duration_days": 365}
    )
    MemberLevel.objects.create(name="黄金会员", min_growth=100_000)
    MemberProfile.objects.update_or_create(user=customer, defaults={"growth": 12_345})
    GrowthEntry.objects.create(user=customer, order_id=1, amount=12_345, key="test:1")
    page = client_for(customer).get("/membership/").content.decode()
    assert "成长值 123" in page and "12345" not in page
    assert "再获得 877 成长值" in page  # ¥876.55 more to spend: 877 points to the next level


def test_checkout_chooses_the_best_coupon_and_reprices_without_an_address(
    operator, customer, make_product
):
    sku = make_product(price=10000).skus.get()
    for name, amount in (("减5元", 500), ("减20元", 2000)):
        template = operator.api.post(
            "/admin/coupon-templates",
            {"name": name, "kind": "amount_off", "amount": amount, "total": 10, "valid_days": 30},
        ).json()
        assert customer.api.post(f"/coupon-templates/{template['id']}/claim").status_code == 201
    web = client_for(customer)
    web.post("/buy/", {"sku_id": sku.pk, "qty": 1})

    page = web.get("/checkout/")
    best = page.context["coupons"][0]
    assert best["name"] == "减20元"
    assert page.context["form"]["coupon_id"].value() == best["id"]
    assert (
        page.context["preview"].priced.payable
        == 10000 - 2000 + page.context["preview"].priced.shipping
    )

    other = page.context["coupons"][1]["id"]
    changed = web.post("/checkout/", {"coupon_id": other, "points": 0}, HTTP_HX_REQUEST="true")
    assert changed.context["preview"].priced.goods_paid == 9500
