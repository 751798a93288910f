"""The storefront's pages through Django's test client: they render in Chinese (and in
English on request), forms say what is wrong beside the field, nobody sees anyone
else's orders, and nothing a person types produces a server error."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from quanzi.accounts.models import User
from quanzi.orders.models import Order, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def web():
    """A browser-like client (CSRF checks on, as in production)."""

    def make(user=None):
        client = Client(enforce_csrf_checks=False)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def apple(make_product):
    return make_product(
        title="阿克苏冰糖心苹果",
        price=3990,
        member_price=3590,
        images=["/static/demo/apple.jpg"],
        category="生鲜水果",
        description="脆甜多汁",
    )


def text(response) -> str:
    return response.content.decode()


def test_home_category_search_and_product_pages_render_in_chinese(web, apple):
    client = web()
    home = client.get("/")
    assert home.status_code == 200
    assert "为你推荐" in text(home) and "阿克苏冰糖心苹果" in text(home)
    assert "39" in text(home) and "¥" in text(home)

    assert "阿克苏" in text(client.get(f"/c/?id={apple.category_id}"))
    assert "阿克苏" in text(client.get("/search/?q=冰糖心"))
    assert "没有找到" in text(client.get("/search/?q=榴莲"))

    page = client.get(f"/p/{apple.pk}")
    body = text(page)
    assert page.status_code == 200
    assert "立即购买" in body and "加入购物车" in body
    assert "会员价" in body and "35" in body  # the member price, in yuan


def test_english_on_request_and_remembered(web, apple):
    client = web()
    assert "Recommended for you" in text(client.get("/?lang=en"))
    assert "Buy now" in text(client.get(f"/p/{apple.pk}"))  # the session remembers
    assert "立即购买" in text(client.get(f"/p/{apple.pk}?lang=zh-hans"))


def test_browser_language_is_honoured(apple):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Recommended for you" in text(client.get("/"))


def test_missing_or_inactive_product_is_404(web, apple):
    from quanzi.catalog.services import product_update

    assert web().get("/p/999999").status_code == 404
    product_update(product_id=apple.pk, data={"is_active": False})
    assert web().get(f"/p/{apple.pk}").status_code == 404


def test_registration_form_shows_errors_beside_fields(web, make_user):
    taken = make_user(phone="13911112222")
    client = web()
    empty = client.post("/register/", {})
    assert empty.status_code == 200
    assert empty.context["form"].errors.keys() >= {"phone", "password"}

    bad = client.post("/register/", {"phone": "12345", "password": "123"})
    assert "请输入 11 位中国大陆手机号" in text(bad)
    assert "password" in bad.context["form"].errors

    dup = client.post("/register/", {"phone": taken.phone, "password": "secret123", "agree": "on"})
    assert dup.context["form"].errors["phone"] == ["该手机号已注册。"]

    code = client.post(
        "/register/",
        {"phone": "13911113333", "password": "secret123", "invite_code": "NOPE99", "agree": "on"},
    )
    assert code.context["form"].errors["invite_code"] == ["邀请码不存在。"]
    assert not User.objects.filter(phone="13911113333").exists()

    unagreed = client.post("/register/", {"phone": "13911113333", "password": "secret123"})
    assert unagreed.context["form"].errors["agree"] == ["请先阅读并同意用户协议和隐私政策。"]
    assert not User.objects.filter(phone="13911113333").exists()


def test_registration_with_invite_code_binds_the_referrer_and_logs_in(web, make_user):
    friend = make_user(nickname="老王")
    client = web()
    form = client.get(f"/register/?invite={friend.invite_code}")
    assert friend.invite_code in text(form)
    done = client.post(
        "/register/",
        {
            "phone": "13911114444",
            "password": "secret123",
            "nickname": "小新",
            "invite_code": friend.invite_code.lower(),
            "agree": "on",
        },
    )
    assert done.status_code == 302
    user = User.objects.get(phone="13911114444")
    assert user.referrer_id == friend.pk
    assert user.tokens.filter(revoked_at__isnull=True).count() == 0  # the web uses a session
    assert "小新" in text(client.get("/me/"))


def test_login_errors_and_success(web, customer):
    client = web()
    wrong = client.post("/login/", {"phone": customer.phone, "password": "nope"})
    assert "手机号或密码错误" in text(wrong)
    ok = client.post(
        "/login/", {"phone": customer.phone, "password": "secret123", "next": "/orders/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/orders/"
    evil = web().post(
        "/login/",
        {"phone": customer.phone, "password": "secret123", "next": "https://evil.example/"},
    )
    assert evil["Location"] == "/me/"  # never sent to another host


def test_pages_that_need_an_account_send_to_login(web):
    for url in ["/me/", "/orders/", "/checkout/", "/me/addresses/", "/me/earnings/"]:
        response = web().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_buy_now_checkout_pay_and_see_the_paid_order(web, customer, apple, make_address):
    address = make_address(customer)
    sku = apple.skus.get()
    client = web(customer)
    client.post("/buy/", {"sku_id": sku.pk, "qty": 2})
    checkout = client.get("/checkout/")
    assert checkout.status_code == 200
    assert checkout.context["preview"].priced.payable == 7980

    placed = client.post("/checkout/", {"address_id": address.pk, "points": "0", "place": "1"})
    order = Order.objects.get(user=customer)
    assert placed["Location"] == f"/orders/{order.pk}/pay/"
    assert order.payable == 7980 and order.status == "pending_payment"

    cashier = client.post(f"/orders/{order.pk}/pay/", {"gateway": "sandbox"})
    pay_url = cashier["Location"]
    assert pay_url.startswith("/pay/sandbox/")
    assert "确认支付" in text(client.get(pay_url))
    paid = client.post(pay_url)
    assert paid["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.status == "to_ship"
    detail = client.get(f"/orders/{order.pk}/")
    assert "待发货" in text(detail) and "79" in text(detail)
    assert client.get("/checkout/").status_code == 302  # the checkout was used up


def test_checkout_errors_stay_on_the_page(web, customer, apple, make_address):
    sku = apple.skus.get()
    client = web(customer)
    client.post("/buy/", {"sku_id": sku.pk, "qty": 1})
    no_address = client.post("/checkout/", {"points": "0", "place": "1"})
    assert no_address.status_code == 200
    assert "请选择收货地址" in text(no_address)
    address = make_address(customer)
    points = client.post("/checkout/", {"address_id": address.pk, "points": "-5", "place": "1"})
    assert "points" in points.context["form"].errors
    too_many = client.post(
        "/checkout/", {"address_id": address.pk, "points": "999999", "place": "1"}
    )
    assert too_many.status_code == 200
    assert too_many.context["form"].errors.get("points")
    assert not Order.objects.exists()


def test_out_of_stock_is_a_message_not_an_error_page(web, customer, make_product, make_address):
    product = make_product(stock=1)
    address = make_address(customer)
    client = web(customer)
    client.post("/buy/", {"sku_id": product.skus.get().pk, "qty": 3})
    response = client.post("/checkout/", {"address_id": address.pk, "points": "0", "place": "1"})
    assert response.status_code == 200
    assert "库存不足" in text(response)


def test_cart_add_update_and_check_out(web, customer, apple):
    sku = apple.skus.get()
    client = web(customer)
    toast = client.post("/cart/add/", {"sku_id": sku.pk, "qty": 2}, HTTP_HX_REQUEST="true")
    assert "已加入购物车" in text(toast) and 'id="cart-badge"' in text(toast)
    cart = client.get("/cart/")
    assert cart.context["total"] == 7980
    client.post("/cart/update/", {"sku_id": sku.pk, "qty": 3})
    assert client.get("/cart/").context["total"] == 3 * 3990
    client.post("/cart/checkout/", {"sku": [sku.pk]})
    assert client.get("/checkout/").context["preview"].priced.total == 3 * 3990
    client.post("/cart/update/", {"sku_id": sku.pk, "qty": 0})
    assert "购物车是空的" in text(client.get("/cart/"))


def test_someone_elses_order_is_404(web, customer, make_user, sku, buy):
    order = buy(customer, sku)
    stranger = web(make_user())
    for url in [
        f"/orders/{order['id']}/",
        f"/orders/{order['id']}/refund/",
        f"/orders/{order['id']}/pay/",
    ]:
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/orders/{order['id']}/confirm/").status_code == 404
    assert stranger.post(f"/orders/{order['id']}/cancel/").status_code == 404
    assert f'data-order="{order["id"]}"' not in text(stranger.get("/orders/"))
    assert f'data-order="{order["id"]}"' in text(web(customer).get("/orders/"))


def test_someone_elses_sandbox_payment_is_404(web, customer, make_user, sku, buy):
    from quanzi.payments.services import payment_create

    order = buy(customer, sku, pay=False)
    payment = payment_create(order_id=order["id"], user=customer, gateway="sandbox")
    stranger = web(make_user())
    assert stranger.get(f"/pay/sandbox/{payment.out_trade_no}").status_code == 404
    assert stranger.post(f"/pay/sandbox/{payment.out_trade_no}").status_code == 404
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"


def test_cancel_an_unpaid_order_and_refuse_cancelling_a_paid_one(web, customer, sku, buy):
    unpaid = buy(customer, sku, pay=False)
    client = web(customer)
    client.post(f"/orders/{unpaid['id']}/cancel/")
    assert Order.objects.get(pk=unpaid["id"]).status == "cancelled"

    paid = buy(customer, sku)
    response = client.post(f"/orders/{paid['id']}/cancel/", follow=True)
    assert response.status_code == 200
    assert "订单当前状态下无法进行此操作" in text(response)
    assert Order.objects.get(pk=paid["id"]).status == "to_ship"


def test_refund_request_form_errors_then_success(web, customer, sku, buy):
    order = buy(customer, sku)
    client = web(customer)
    form = client.get(f"/orders/{order['id']}/refund/")
    assert "申请退款" in text(form)
    missing = client.post(f"/orders/{order['id']}/refund/", {"reason": ""})
    assert missing.context["form"].errors["reason"]
    done = client.post(
        f"/orders/{order['id']}/refund/", {"reason": "quality", "detail": "坏了两个"}
    )
    assert done.status_code == 302
    refund = Refund.objects.get(order_id=order["id"])
    assert refund.status == "requested" and refund.reason == "quality: 坏了两个"
    again = client.post(f"/orders/{order['id']}/refund/", {"reason": "other"})
    assert "该订单已有进行中的退款" in text(again)


def test_confirm_receipt_of_a_shipped_order(web, customer, operator, sku, buy):
    from quanzi.orders.services import order_ship

    order = buy(customer, sku)
    order_ship(order_id=order["id"], carrier="顺丰", tracking_no="SF1", actor=operator)
    client = web(customer)
    assert "确认收货" in text(client.get(f"/orders/{order['id']}/"))
    client.post(f"/orders/{order['id']}/confirm/")
    assert Order.objects.get(pk=order["id"]).status == "completed"


def test_address_forms(web, customer, make_user):
    client = web(customer)
    empty = client.post("/me/addresses/new/", {})
    assert set(empty.context["form"].errors) >= {"name", "phone", "province", "detail"}
    client.post(
        "/me/addresses/new/",
        {
            "name": "李雷",
            "phone": "13900001111",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园 1 号",
        },
    )
    address = customer.addresses.get()
    assert address.is_default
    assert web().get(f"/me/addresses/{address.pk}/").status_code == 302  # login first
    assert web(make_user()).get(f"/me/addresses/{address.pk}/").status_code == 404
    client.post(f"/me/addresses/{address.pk}/delete/")
    assert not customer.addresses.filter(is_deleted=False).exists()


def test_share_poster_is_a_png_with_the_sharers_link(web, customer, apple):
    from quanzi.social.models import ShareLink

    response = web(customer).get(f"/poster/p/{apple.pk}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (750, 1200)
    link = ShareLink.objects.get(sharer=customer, target="product", target_id=apple.pk)
    assert link.channel == "poster"
    assert web().get(f"/poster/p/{apple.pk}.png").status_code == 302  # needs the sharer


def test_poster_falls_back_to_pillows_font(monkeypatch, customer, apple):
    from quanzi.storefront import poster

    poster.font_path.cache_clear()
    monkeypatch.setattr(poster, "FONT_CANDIDATES", [])
    monkeypatch.delenv("QUANZI_FONT", raising=False)
    try:
        assert poster.font_path() is None
        png = poster.poster_render(
            title="Apple",
            price=1990,
            image_url="/static/demo/missing.jpg",
            sharer_nickname="Li",
            sharer_avatar="",
            link="http://testserver/p/1",
            texts={
                "recommends": "recommends",
                "price_label": "Price",
                "scan": "Scan",
                "scan_hint": "Hold",
                "shop": "Shop",
            },
        )
        assert Image.open(io.BytesIO(png)).size == (750, 1200)
    finally:
        poster.font_path.cache_clear()


def test_share_button_gives_the_sharers_tracked_link(web, customer, apple):
    response = web(customer).post("/share/", {"target": "product", "id": apple.pk})
    assert response.status_code == 200 and "/s/" in response.json()["url"]
    anonymous = web().post("/share/", {"target": "product", "id": apple.pk})
    assert anonymous.json()["url"].endswith(f"/p/{apple.pk}")
    assert web(customer).post("/share/", {"target": "nope", "id": "x"}).status_code == 400


@pytest.mark.parametrize(
    "url,data",
    [
        ("/buy/", {"sku_id": "abc", "qty": "-1"}),
        ("/buy/", {"sku_id": "999999", "qty": "1"}),
        ("/cart/add/", {"sku_id": "1e9", "qty": "x" * 300}),
        ("/cart/update/", {"sku_id": "", "qty": "NaN"}),
        ("/cart/checkout/", {"sku": ["x", "-3"]}),
        ("/group/start/", {"sku_id": "1", "qty": "1", "campaign_id": "zz"}),
        (
            "/checkout/",
            {"address_id": "' OR 1=1", "points": "1e99", "coupon_id": "x", "place": "1"},
        ),
        ("/register/", {"phone": "😀" * 50, "password": "x" * 500, "invite_code": "\x00"}),
        ("/login/", {"phone": "1" * 5000, "password": ""}),
        ("/me/withdrawals/", {"amount": "-0.001"}),
        ("/me/withdrawals/", {"amount": "1e30"}),
        ("/share/", {"target": "product", "id": "-1"}),
        ("/b/start/", {"campaign_id": "x"}),
        ("/g/1/join", {"sku_id": "x"}),
    ],
)
def test_nothing_a_person_types_is_a_server_error(web, customer, make_address, url, data):
    make_address(customer)
    client = web(customer)
    client.post("/buy/", {"sku_id": "1", "qty": "1"})
    response = client.post(url, data)
    assert response.status_code < 500


def test_csrf_is_enforced_on_forms(customer, apple):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    assert client.post("/buy/", {"sku_id": apple.skus.get().pk, "qty": 1}).status_code == 403
    page = client.get(f"/p/{apple.pk}")
    assert "csrfmiddlewaretoken" in text(page) and "X-CSRFToken" in text(page)


def test_no_asset_comes_from_another_host(web, apple):
    body = text(web().get(f"/p/{apple.pk}"))
    for attribute in ('src="http', "src='http", 'href="http', 'src="//', 'href="//'):
        assert attribute not in body
    assert "/static/storefront/vendor/htmx.min.js" in body


def test_query_counts_do_not_grow_with_the_page(
    web, customer, make_product, sku, buy, django_assert_max_num_queries
):
    for i in range(12):
        make_product(title=f"商品{i}", images=[f"/static/demo/apple.jpg?{i}"])
    for _ in range(6):
        buy(customer, sku)
    client = web(customer)
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/orders/").status_code == 200
