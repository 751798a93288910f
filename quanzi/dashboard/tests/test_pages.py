"""The operator dashboard through Django's test client: only operators get in, every list
is paginated and searchable, forms say what is wrong beside the field, and the actions
(ship, approve or reject refunds and withdrawals, settings) go through the services."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from quanzi.catalog.models import SKU, Product
from quanzi.orders.models import Order, Refund

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "/dashboard/",
    "/dashboard/products/",
    "/dashboard/orders/",
    "/dashboard/refunds/",
    "/dashboard/groups/",
    "/dashboard/bargains/",
    "/dashboard/coupons/",
    "/dashboard/plans/",
    "/dashboard/withdrawals/",
    "/dashboard/settings/",
    "/dashboard/settings/distribution/",
]


@pytest.fixture
def desk(operator):
    client = Client()
    client.force_login(operator)
    return client


def test_anonymous_is_sent_to_the_operator_login(db):
    for url in LIST_PAGES:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/?next=")


def test_a_customer_cannot_open_the_dashboard(customer, sku):
    client = Client()
    client.force_login(customer)
    for url in LIST_PAGES + ["/dashboard/products/new/", f"/dashboard/products/{sku.product_id}/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/dashboard/refunds/1/approve/").status_code == 403
    login = Client().post("/dashboard/login/", {"phone": customer.phone, "password": "secret123"})
    assert "该账号不是运营人员" in login.content.decode()


def test_operator_login_errors_and_success(operator):
    client = Client()
    wrong = client.post("/dashboard/login/", {"phone": operator.phone, "password": "bad"})
    assert "手机号或密码错误" in wrong.content.decode()
    ok = client.post(
        "/dashboard/login/",
        {"phone": operator.phone, "password": "secret123", "next": "/dashboard/orders/"},
    )
    assert ok["Location"] == "/dashboard/orders/"
    assert client.get("/dashboard/").status_code == 200


def test_every_page_renders(desk, customer, sku, buy):
    buy(customer, sku)
    for url in LIST_PAGES + [
        "/dashboard/products/new/",
        "/dashboard/groups/new/",
        "/dashboard/bargains/new/",
        "/dashboard/coupons/new/",
        "/dashboard/plans/new/",
        "/dashboard/settings/points/",
        "/dashboard/settings/storefront/",
    ]:
        response = desk.get(url)
        assert response.status_code == 200, url
    assert desk.get("/dashboard/settings/nope/").status_code == 404
    assert desk.get("/dashboard/orders/999999/").status_code == 404


def test_product_list_is_paginated_and_searchable(desk, make_product):
    for i in range(23):
        make_product(title=f"测试商品{i:02d}")
    make_product(title="五常大米")
    first = desk.get("/dashboard/products/")
    assert len(first.context["page"].items) == 20 and first.context["page"].next_link
    second = desk.get("/dashboard/products/" + first.context["page"].next_link)
    assert len(second.context["page"].items) == 4
    found = desk.get("/dashboard/products/?q=大米")
    assert [p.title for p in found.context["page"].items] == ["五常大米"]


def _product_post(**overrides):
    data = {
        "title": "新疆红枣",
        "description": "个大肉厚",
        "category": "零食饮料",
        "supplier_id": "",
        "images": "/static/demo/nuts.jpg",
        "is_active": "on",
        "level1_rate_bp": "",
        "level2_rate_bp": "",
        "sku-TOTAL_FORMS": "2",
        "sku-INITIAL_FORMS": "0",
        "sku-MIN_NUM_FORMS": "0",
        "sku-MAX_NUM_FORMS": "30",
        "sku-0-name": "500g",
        "sku-0-price": "29.90",
        "sku-0-supply_price": "15.00",
        "sku-0-member_price": "26.90",
        "sku-0-stock": "120",
        "sku-0-is_active": "on",
    }
    data.update(overrides)
    return data


def test_create_a_product_with_prices_in_yuan(desk):
    response = desk.post("/dashboard/products/new/", _product_post())
    product = Product.objects.get(title="新疆红枣")
    assert response["Location"] == f"/dashboard/products/{product.pk}/"
    sku = product.skus.get()
    assert (sku.price, sku.supply_price, sku.member_price, sku.stock) == (2990, 1500, 2690, 120)
    assert product.category.name == "零食饮料"
    assert [i.url for i in product.images.all()] == ["/static/demo/nuts.jpg"]


def test_product_form_errors_beside_fields(desk):
    blank = desk.post("/dashboard/products/new/", _product_post(title="", **{"sku-0-price": "abc"}))
    assert blank.status_code == 200
    assert blank.context["form"].errors["title"]
    assert blank.context["formset"].forms[0].errors["price"]

    no_sku = desk.post(
        "/dashboard/products/new/", _product_post(**{"sku-0-name": "", "sku-0-price": ""})
    )
    assert "商品至少需要一个规格" in no_sku.content.decode()

    supply = desk.post("/dashboard/products/new/", _product_post(**{"sku-0-supply_price": "99"}))
    assert "供货价不能高于售价" in supply.content.decode()

    remote = desk.post(
        "/dashboard/products/new/", _product_post(images="https://cdn.example.com/a.jpg")
    )
    assert remote.context["form"].errors["images"]
    assert not Product.objects.exists()


def _edit_post(sku, *, stock: str, **overrides) -> dict:
    """The edit form of a product with one variant, renamed 东北大米 10kg."""
    return _product_post(
        title="东北大米 10kg",
        **{
            "sku-INITIAL_FORMS": "1",
            "sku-0-id": str(sku.pk),
            "sku-0-name": "默认",
            "sku-0-price": "19.90",
            "sku-0-supply_price": "10.00",
            "sku-0-member_price": "",
            "sku-0-stock": stock,
            **overrides,
        },
    )


def test_edit_a_product_changes_stock_and_adds_a_variant(desk, make_product):
    product = make_product(price=1990, stock=5)
    sku = product.skus.get()
    data = _edit_post(
        sku,
        stock="80",
        **{
            "sku-1-name": "20kg",
            "sku-1-price": "35.00",
            "sku-1-supply_price": "20.00",
            "sku-1-stock": "10",
        },
    )
    response = desk.post(f"/dashboard/products/{product.pk}/", data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.title == "东北大米 10kg"
    assert SKU.objects.get(pk=sku.pk).stock == 80
    assert product.skus.filter(name="20kg", price=3500).exists()


def test_upload_a_product_image(desk, settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    desk.post("/dashboard/products/new/", {**_product_post(images=""), "upload": upload})
    url = Product.objects.get().images.get().url
    assert url.startswith("/media/products/") and url.endswith(".png")
    assert Client().get(url).status_code == 200
    fake = SimpleUploadedFile("b.png", b"not an image", content_type="image/png")
    response = desk.post(
        "/dashboard/products/new/", {**_product_post(title="另一个"), "upload": fake}
    )
    assert response.context["form"].errors["upload"]


def test_orders_search_filter_and_ship(desk, customer, make_user, sku, buy):
    mine = buy(customer, sku)
    other = buy(make_user(nickname="别人"), sku)
    found = desk.get(f"/dashboard/orders/?q={customer.phone}")
    assert [o.pk for o in found.context["page"].items] == [mine["id"]]
    by_status = desk.get("/dashboard/orders/?status=to_ship")
    assert {o.pk for o in by_status.context["page"].items} == {mine["id"], other["id"]}

    empty = desk.post(f"/dashboard/orders/{mine['id']}/ship/", {"carrier": "", "tracking_no": ""})
    assert empty.context["ship_form"].errors.keys() == {"carrier", "tracking_no"}
    shipped = desk.post(
        f"/dashboard/orders/{mine['id']}/ship/", {"carrier": "顺丰", "tracking_no": "SF123"}
    )
    assert shipped.status_code == 302
    assert Order.objects.get(pk=mine["id"]).status == "shipped"
    twice = desk.post(
        f"/dashboard/orders/{mine['id']}/ship/", {"carrier": "顺丰", "tracking_no": "SF123"}
    )
    assert twice.status_code == 200
    assert "只有待发货的订单可以发货" in twice.content.decode()


def _refund(customer, sku, buy) -> Refund:
    from quanzi.orders.refunds import refund_request

    order = buy(customer, sku)
    return refund_request(order_id=order["id"], user=customer, lines=None, reason="quality")


def test_approve_a_refund(desk, customer, sku, buy):
    refund = _refund(customer, sku, buy)
    listing = desk.get("/dashboard/refunds/")
    assert [r.pk for r in listing.context["page"].items] == [refund.pk]
    desk.post(f"/dashboard/refunds/{refund.pk}/approve/")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Order.objects.get(pk=refund.order_id).status == "refunded"
    again = desk.post(f"/dashboard/refunds/{refund.pk}/reject/", {"reason": "x"}, follow=True)
    assert again.status_code == 200  # a message, not an error page


def test_reject_a_refund_needs_a_reason(desk, customer, sku, buy):
    refund = _refund(customer, sku, buy)
    desk.post(f"/dashboard/refunds/{refund.pk}/reject/", {"reason": ""})
    refund.refresh_from_db()
    assert refund.status == "requested"
    desk.post(f"/dashboard/refunds/{refund.pk}/reject/", {"reason": "已发货，请走退货流程"})
    refund.refresh_from_db()
    assert refund.status == "rejected"
    assert Order.objects.get(pk=refund.order_id).status == "to_ship"
    assert desk.post("/dashboard/refunds/999999/approve/").status_code == 404


def test_distribution_settings_refuse_a_third_level(desk):
    from quanzi.core.platform_settings import get_settings

    page = desk.get("/dashboard/settings/distribution/")
    form = page.context["form"]
    post = {}
    for name, field in form.fields.items():
        value = field.initial
        if isinstance(value, bool):
            if value:
                post[name] = "on"
        else:
            post[name] = "" if value is None else str(value)
    post["levels"] = "3"
    refused = desk.post("/dashboard/settings/distribution/", post)
    assert "最多两级分佣" in refused.content.decode()
    assert get_settings().distribution.levels == 2
    post["levels"] = "1"
    post["level1_rate_bp"] = "8"  # percent on the page, basis points stored
    saved = desk.post("/dashboard/settings/distribution/", post)
    assert saved.status_code == 302
    assert get_settings().distribution.level1_rate_bp == 800
    assert get_settings().distribution.levels == 1


def test_storefront_settings_show_on_the_home_page(desk):
    page = desk.get("/dashboard/settings/storefront/")
    post = {"shop_name": "小圈严选", "notice": "满 99 包邮", "banners": "/static/demo/banner1.jpg"}
    assert set(post) <= set(page.context["form"].fields)
    assert desk.post("/dashboard/settings/storefront/", post).status_code == 302
    home = Client().get("/").content.decode()
    assert "小圈严选" in home and "满 99 包邮" in home and "/static/demo/banner1.jpg" in home
    too_long = desk.post("/dashboard/settings/storefront/", {**post, "shop_name": "x" * 31})
    assert too_long.context["form"].errors["shop_name"]


def test_create_a_group_deal_and_see_errors(desk, sku):
    bad = desk.post(
        "/dashboard/groups/new/",
        {
            "title": "",
            "sku_id": sku.pk,
            "group_price": "9.90",
            "group_size": "1",
            "group_ttl_hours": "24",
            "per_user_limit": "1",
            "stock": "10",
            "simulated_fill_max_missing": "0",
        },
    )
    assert bad.context["form"].errors.keys() >= {"title", "group_size"}
    ok = desk.post(
        "/dashboard/groups/new/",
        {
            "title": "大米 2 人团",
            "sku_id": sku.pk,
            "group_price": "9.90",
            "group_size": "2",
            "group_ttl_hours": "24",
            "per_user_limit": "1",
            "stock": "10",
            "simulated_fill_max_missing": "0",
        },
    )
    assert ok["Location"] == "/dashboard/groups/"
    overlap = desk.post(
        "/dashboard/groups/new/",
        {
            "title": "又一个",
            "sku_id": sku.pk,
            "group_price": "8.90",
            "group_size": "3",
            "group_ttl_hours": "24",
            "per_user_limit": "1",
            "stock": "10",
            "simulated_fill_max_missing": "0",
        },
    )
    assert overlap.status_code == 200 and overlap.context["form"].errors
    listing = desk.get("/dashboard/groups/?q=大米")
    assert [row["title"] for row in listing.context["rows"]] == ["大米 2 人团"]
    campaign_id = listing.context["rows"][0]["id"]
    desk.post(f"/dashboard/groups/{campaign_id}/end/")
    assert desk.get("/dashboard/groups/").context["rows"][0]["is_active"] is False


def test_create_a_bargain_campaign(desk, sku):
    bad = desk.post(
        "/dashboard/bargains/new/",
        {
            "sku_id": sku.pk,
            "start_price": "19.90",
            "floor_price": "19.90",
            "helpers_min": "2",
            "helpers_max": "3",
            "ttl_hours": "24",
            "per_user_limit": "1",
            "helps_per_day": "3",
            "stock": "5",
            "buy_mode": "any_price",
        },
    )
    assert bad.status_code == 200 and bad.context["form"].errors
    ok = desk.post(
        "/dashboard/bargains/new/",
        {
            "title": "蜂蜜砍价",
            "sku_id": sku.pk,
            "start_price": "19.90",
            "floor_price": "0",
            "helpers_min": "2",
            "helpers_max": "3",
            "ttl_hours": "24",
            "per_user_limit": "1",
            "helps_per_day": "3",
            "stock": "5",
            "buy_mode": "floor_only",
        },
    )
    assert ok["Location"] == "/dashboard/bargains/"
    rows = desk.get("/dashboard/bargains/").context["rows"]
    assert rows[0]["floor_price"] == 0 and rows[0]["buy_mode"] == "floor_only"


def test_create_coupons_and_plans(desk):
    missing = desk.post(
        "/dashboard/coupons/new/",
        {
            "name": "满减",
            "kind": "amount_off",
            "scope": "all",
            "total": "10",
            "per_user_limit": "1",
        },
    )
    assert missing.status_code == 200 and missing.context["form"].errors
    ok = desk.post(
        "/dashboard/coupons/new/",
        {
            "name": "八五折",
            "kind": "percent_off",
            "percent": "15",
            "cap": "20",
            "threshold": "",
            "scope": "all",
            "valid_days": "7",
            "total": "100",
            "per_user_limit": "1",
            "claimable": "on",
        },
    )
    assert ok["Location"] == "/dashboard/coupons/"
    row = desk.get("/dashboard/coupons/").context["rows"][0]
    assert (row["percent_bp"], row["cap"]) == (1500, 2000)
    desk.post(f"/dashboard/coupons/{row['id']}/toggle/", {"active": "0"})
    assert desk.get("/dashboard/coupons/").context["rows"][0]["is_active"] is False

    plan = desk.post(
        "/dashboard/plans/new/",
        {
            "name": "年卡",
            "price": "99",
            "duration_days": "365",
            "points_multiplier_bp": "15000",
            "free_shipping": "on",
        },
    )
    assert plan["Location"] == "/dashboard/plans/"
    row = desk.get("/dashboard/plans/").context["rows"][0]
    assert (row["price"], row["points_multiplier_bp"]) == (9900, 15000)
    desk.post(f"/dashboard/plans/{row['id']}/toggle/", {"active": "0"})
    assert desk.get("/dashboard/plans/").context["rows"][0]["is_active"] is False


def _available_commission(make_user, make_product, buy, operator):
    """A shopkeeper whose friend bought and whose commission became available, the way
    it really happens: payment, shipping, receipt, end of after-sales, settlement."""
    from quanzi.accounts.services import referrer_bind
    from quanzi.core.platform_settings import settings_update
    from quanzi.orders.services import order_confirm_receipt, order_settle, order_ship

    settings_update(patch={"after_sales_seconds": 0, "distribution": {"withdraw_audit_above": 0}})
    seller, friend = make_user(nickname="店主"), make_user(nickname="买家")
    referrer_bind(user=friend, referrer=seller, source="invite_code")
    product = make_product(price=100_000, supply_price=50_000, stock=10)
    order = buy(friend, product.skus.get())
    order_ship(order_id=order["id"], carrier="顺丰", tracking_no="SF1", actor=operator)
    order_confirm_receipt(order_id=order["id"], user=friend)
    assert order_settle(order_id=order["id"])
    return seller


def test_withdrawal_audit(desk, operator, make_user, make_product, buy):
    from quanzi.distribution.selectors import earnings_of
    from quanzi.distribution.withdrawals import withdrawal_request

    seller = _available_commission(make_user, make_product, buy, operator)
    available = earnings_of(user=seller)["available"]
    assert available >= 2000
    first = withdrawal_request(user=seller, amount=1000)
    listing = desk.get("/dashboard/withdrawals/")
    assert [row["id"] for row in listing.context["rows"]] == [first.pk]
    desk.post(f"/dashboard/withdrawals/{first.pk}/reject/", {"reason": ""})
    first.refresh_from_db()
    assert first.status == "requested"
    desk.post(f"/dashboard/withdrawals/{first.pk}/approve/")
    first.refresh_from_db()
    assert first.status == "paid"
    second = withdrawal_request(user=seller, amount=1000)
    desk.post(f"/dashboard/withdrawals/{second.pk}/reject/", {"reason": "信息不符"})
    second.refresh_from_db()
    assert second.status == "rejected" and second.reject_reason == "信息不符"
    assert earnings_of(user=seller)["available"] == available - 1000


def test_an_edit_made_while_orders_come_in_loses_no_sale(desk, make_product, customer, buy):
    product = make_product(price=1990, stock=5)
    sku = product.skus.get()
    form = desk.get(f"/dashboard/products/{product.pk}/")
    assert form.context["formset"].forms[0].initial["stock_seen"] == 5
    buy(customer, sku, qty=2)  # while the operator looks at the form: 3 left
    data = _edit_post(sku, stock="40", **{"sku-TOTAL_FORMS": "1", "sku-0-stock_seen": "5"})
    refused = desk.post(f"/dashboard/products/{product.pk}/", data)
    assert refused.status_code == 200
    assert "编辑期间有新订单" in refused.content.decode() and "现在是 3" in refused.content.decode()
    assert SKU.objects.get(pk=sku.pk).stock == 3
    product.refresh_from_db()
    assert product.title != "东北大米 10kg"  # nothing of the edit was saved
    # The page now carries the stock as it is: saving again is a choice made knowing it.
    assert refused.context["formset"].forms[0]["stock_seen"].value() == "3"
    data["sku-0-stock_seen"] = "3"
    saved = desk.post(f"/dashboard/products/{product.pk}/", data)
    assert saved.status_code == 302
    assert SKU.objects.get(pk=sku.pk).stock == 40

    unchanged = {**data, "sku-0-stock_seen": "40", "sku-0-stock": "40", "title": "大米"}
    buy(customer, sku, qty=1)  # 39 left; the operator only renames
    assert desk.post(f"/dashboard/products/{product.pk}/", unchanged).status_code == 302
    assert SKU.objects.get(pk=sku.pk).stock == 39


def test_settings_are_shown_in_days_yuan_and_percent_and_stored_as_before(desk):
    from quanzi.core.platform_settings import get_settings

    page = desk.get("/dashboard/settings/distribution/")
    text = page.content.decode()
    assert "一级佣金比例（%）" in text and "最低提现金额（元）" in text
    form = page.context["form"]
    assert form["level1_rate_bp"].value() == 10  # 1000 basis points
    assert form["withdraw_min"].value() == 1  # 100 fen
    post = {}
    for name, field in form.fields.items():
        value = field.initial
        if isinstance(value, bool):
            if value:
                post[name] = "on"
        else:
            post[name] = "" if value is None else str(value)
    post |= {"level1_rate_bp": "12.5", "withdraw_min": "2.50", "withdraw_audit_above": "800"}
    assert desk.post("/dashboard/settings/distribution/", post).status_code == 302
    saved = get_settings().distribution
    assert (saved.level1_rate_bp, saved.withdraw_min, saved.withdraw_audit_above) == (
        1250,
        250,
        80000,
    )

    general = desk.get("/dashboard/settings/").context["form"]
    assert general["after_sales_seconds"].value() == 7  # 604800 seconds
    assert general["payment_timeout_seconds"].value() == 15  # 900 seconds

    wrong = desk.post("/dashboard/settings/distribution/", {**post, "level1_rate_bp": "abc"})
    assert wrong.context["form"].errors["level1_rate_bp"] == ["请填写数字。"]
    too_big = desk.post("/dashboard/settings/distribution/", {**post, "withdraw_fee_bp": "60"})
    assert too_big.context["form"].errors["withdraw_fee_bp"] == ["不能大于 50。"]
    empty = desk.post("/dashboard/settings/distribution/", {**post, "withdraw_min": ""})
    assert empty.context["form"].errors["withdraw_min"] == ["请填写此项。"]


def test_a_failed_product_form_keeps_the_upload_and_says_everything_at_once(
    desk, settings, tmp_path
):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="PNG")
    upload = SimpleUploadedFile("c.png", buffer.getvalue(), content_type="image/png")
    post = _product_post(title="", images="", **{"sku-0-name": "", "sku-0-price": ""})
    post = {k: v for k, v in post.items() if not k.startswith("sku-0-")}
    failed = desk.post("/dashboard/products/new/", {**post, "upload": upload})
    assert failed.status_code == 200
    form = failed.context["form"]
    assert "title" in form.errors  # the title …
    assert failed.context["sku_error"]  # … and the missing variant, in the same round
    kept = form["images"].value()
    assert kept.startswith("/media/products/") and kept.endswith(".png")
    assert form["description"].value() == "个大肉厚"

    fixed = desk.post("/dashboard/products/new/", _product_post(images=kept))
    assert fixed.status_code == 302
    assert Product.objects.get().images.get().url == kept
