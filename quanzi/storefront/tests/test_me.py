"""The personal centre's pages: coupons, points, membership, earnings, withdrawals, team
and invite code — each over its app's services, each only for its owner."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.orders.models import Order

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_me_page_shows_counts_and_links(customer, sku, buy):
    buy(customer, sku)
    body = logged_in(customer).get("/me/").content.decode()
    assert "我的订单" in body and customer.invite_code in body
    assert "待发货" in body and "收货地址" in body and "运营后台" not in body


def test_coupon_centre_claim_and_use_at_checkout(customer, make_product, make_address):
    from quanzi.marketing.services import coupon_template_create

    template = coupon_template_create(
        data={
            "name": "满30减5",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 3000,
            "valid_days": 7,
            "total": 10,
            "per_user_limit": 1,
        }
    )
    client = logged_in(customer)
    centre = client.get("/coupons/").content.decode()
    assert "满30减5" in centre and "满 ¥30.00 可用" in centre
    claimed = client.post(f"/coupons/{template.pk}/claim/", follow=True).content.decode()
    assert "领取成功" in claimed
    again = client.post(f"/coupons/{template.pk}/claim/", follow=True).content.decode()
    assert "你已领取过该优惠券" in again
    mine = client.get("/me/coupons/").content.decode()
    assert "满30减5" in mine

    product = make_product(price=3990)
    address = make_address(customer)
    client.post("/buy/", {"sku_id": product.skus.get().pk, "qty": 1})
    page = client.get("/checkout/")
    coupon_id = page.context["coupons"][0]["id"]
    assert "满30减5 −¥5.00" in page.content.decode()
    preview = client.post("/checkout/", {"address_id": address.pk, "coupon_id": coupon_id})
    assert preview.context["preview"].priced.payable == 3490
    client.post(
        "/checkout/",
        {"address_id": address.pk, "coupon_id": coupon_id, "points": "0", "place": "1"},
    )
    assert Order.objects.get(user=customer).payable == 3490
    assert "满30减5" in client.get("/me/coupons/?status=used").content.decode()


def test_points_sign_in_once_a_day(customer):
    client = logged_in(customer)
    assert "每日签到" in client.get("/me/points/").content.decode()
    first = client.post("/me/points/sign-in/", follow=True).content.decode()
    assert "签到成功" in first
    second = client.post("/me/points/sign-in/", follow=True).content.decode()
    assert "今天已经签到过了" in second
    page = client.get("/me/points/")
    assert page.context["summary"]["balance"] > 0


def test_membership_plan_bought_and_paid_makes_a_member(customer):
    from quanzi.membership.services import plan_create

    plan = plan_create(name="年卡", price=9900, duration_days=365)
    client = logged_in(customer)
    page = client.get("/membership/").content.decode()
    assert "年卡" in page and "99" in page
    cashier = client.post(f"/membership/{plan.pk}/buy/")
    order = Order.objects.get(user=customer)
    assert cashier["Location"] == f"/orders/{order.pk}/pay/"
    pay_url = client.post(cashier["Location"], {"gateway": "sandbox"})["Location"]
    client.post(pay_url)
    assert "会员有效期至" in client.get("/membership/").content.decode()
    assert Client().post(f"/membership/{plan.pk}/buy/")["Location"].startswith("/login/")


def test_earnings_team_and_withdrawal_errors(make_user, sku, buy):
    from quanzi.accounts.services import referrer_bind

    sharer = make_user(nickname="店主小美")
    friend = make_user(nickname="闺蜜")
    referrer_bind(user=friend, referrer=sharer, source="invite_code")
    buy(friend, sku)

    client = logged_in(sharer)
    earnings = client.get("/me/earnings/")
    assert earnings.context["earnings"]["frozen"] > 0
    assert "冻结中" in earnings.content.decode()
    team = client.get("/me/team/").content.decode()
    assert "闺蜜" in team
    refused = client.post("/me/withdrawals/", {"amount": "1.00"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["amount"]  # nothing available yet
    empty = client.post("/me/withdrawals/", {"amount": ""})
    assert empty.context["form"].errors["amount"]


def test_invite_page_and_qr(customer, make_user):
    newcomer = make_user()
    from quanzi.accounts.services import referrer_bind

    referrer_bind(user=newcomer, referrer=customer, source="invite_code")
    client = logged_in(customer)
    body = client.get("/me/invite/").content.decode()
    assert customer.invite_code in body and newcomer.nickname in body
    assert f"/register/?invite={customer.invite_code}" in body
    qr = client.get("/me/invite/qr.png")
    assert qr["Content-Type"] == "image/png" and qr.content[:4] == b"\x89PNG"


def test_a_distributor_opens_a_shop_and_picks_products(make_user, make_product):
    owner = make_user(nickname="小美")
    product = make_product(title="玻尿酸补水面膜", price=6900)
    client = logged_in(owner)
    blank = client.post("/me/shop/", {"name": ""})
    assert blank.context["form"].errors["name"]
    client.post("/me/shop/", {"name": "小美的美妆铺", "description": "自用推荐"})
    page = client.get(f"/p/{product.pk}").content.decode()
    assert "加入我的小店" in page
    client.post("/me/shop/add/", {"product_id": product.pk})
    mine = client.get("/me/shop/")
    shop = mine.context["shop"]
    assert [p["id"] for p in shop["products"]] == [product.pk]
    public = Client().get(f"/shop/{shop['id']}").content.decode()
    assert "小美的美妆铺" in public and "玻尿酸补水面膜" in public and "69" in public
    client.post(f"/me/shop/remove/{product.pk}/")
    assert logged_in(owner).get("/me/shop/").context["shop"]["products"] == []
    assert Client().get("/shop/999999").status_code == 404


def test_withdrawal_form_asks_alipay_for_the_payee(alipay, make_user, make_product, buy):
    from quanzi.accounts.services import referrer_bind
    from quanzi.core.platform_settings import settings_update
    from quanzi.distribution.models import Withdrawal
    from quanzi.distribution.tests.conftest import settle

    settings_update(patch={"distribution": {"withdraw_min": 100, "withdraw_audit_above": 10**6}})
    sharer, friend = make_user(nickname="店主小美"), make_user(nickname="闺蜜")
    referrer_bind(user=friend, referrer=sharer, source="invite_code")
    settle(Order.objects.get(pk=buy(friend, make_product(price=10_000).skus.get())["id"]))
    client = logged_in(sharer)
    page = client.get("/me/withdrawals/")
    assert [value for value, _ in page.context["form"].fields["gateway"].choices] == [
        "sandbox",
        "alipay",
    ]

    ask = {"amount": "5.00", "gateway": "alipay", "payee_account": "13800138000"}
    refused = client.post("/me/withdrawals/", ask)
    assert refused.status_code == 200
    assert "请填写收款人真实姓名" in str(refused.context["form"].errors["payee_name"])
    assert not Withdrawal.objects.exists()

    done = client.post("/me/withdrawals/", {**ask, "payee_name": "张小美"})

    assert done.status_code == 302
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == "paid" and withdrawal.gateway == "alipay"
    assert alipay.transfers[withdrawal.payout_no]["payee"]["name"] == "张小美"
    listed = client.get("/me/withdrawals/").content.decode()
    assert "138****8000" in listed and "**美" in listed and "张小美" not in listed
