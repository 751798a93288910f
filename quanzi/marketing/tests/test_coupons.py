"""Coupons: every kind, threshold, scope and validity; claiming, granting, using,
returning, expiring, and the subsidy booked at settlement."""

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.ledger.services import balance
from quanzi.marketing.models import Coupon, CouponTemplate
from quanzi.marketing.observer import COUPON_SUBSIDY
from quanzi.marketing.services import coupons_expire_due


def _lines_add_up(order):
    assert sum(line["paid"] for line in order["lines"]) == order["payable"] - order["shipping"]
    assert all(line["paid"] >= 0 for line in order["lines"])


def test_amount_off_applies_only_once_the_threshold_is_reached(
    customer, make_product, coupon_for, place
):
    cheap = make_product(price=4000).skus.get()
    coupon = coupon_for(customer, kind="amount_off", amount=1000, threshold=10_000)
    below = place(customer, [(cheap, 2)], coupon_id=coupon.pk)
    assert below.status_code == 422
    assert below.json()["code"] == "coupon_invalid"
    assert below.json()["detail"]["reason"] == "threshold_not_met"
    order = place(customer, [(cheap, 3)], coupon_id=coupon.pk)
    assert order.status_code == 201, order.content
    body = order.json()
    assert body["total"] == 12_000 and body["discount"] == 1000 and body["payable"] == 11_000
    assert body["coupon_id"] == coupon.pk
    _lines_add_up(body)
    assert Coupon.objects.get(pk=coupon.pk).status == "used"


def test_no_threshold_coupon_never_makes_the_order_free(customer, make_product, coupon_for, place):
    sku = make_product(price=500, supply_price=300).skus.get()
    coupon = coupon_for(customer, kind="amount_off", amount=1000, threshold=0)
    order = place(customer, [(sku, 1)], coupon_id=coupon.pk).json()
    assert order["payable"] == 1 and order["discount"] == 499


def test_percent_off_is_capped(customer, make_product, coupon_for, place):
    sku = make_product(price=10_000).skus.get()
    small = coupon_for(customer, kind="percent_off", percent_bp=2000, cap=5000)
    order = place(customer, [(sku, 1)], coupon_id=small.pk).json()
    assert order["discount"] == 2000  # 20 % of 100 yuan, under the cap
    capped = coupon_for(customer, kind="percent_off", percent_bp=2000, cap=3000)
    big = place(customer, [(sku, 3)], coupon_id=capped.pk).json()
    assert big["discount"] == 3000  # 20 % of 300 yuan would be 60, capped at 30


def test_product_scope_discounts_only_the_covered_lines(customer, make_product, coupon_for, place):
    covered = make_product(price=6000, title="奶粉").skus.get()
    other = make_product(price=4000, title="纸尿裤").skus.get()
    coupon = coupon_for(
        customer,
        kind="amount_off",
        amount=1000,
        threshold=5000,
        scope="products",
        scope_ids=[covered.product_id],
    )
    order = place(customer, [(covered, 1), (other, 1)], coupon_id=coupon.pk).json()
    lines = {line["sku_id"]: line for line in order["lines"]}
    assert lines[covered.pk]["paid"] == 5000 and lines[covered.pk]["breakdown"]["coupon"] == 1000
    assert lines[other.pk]["paid"] == 4000 and lines[other.pk]["breakdown"]["coupon"] == 0
    _lines_add_up(order)
    second = coupon_for(
        customer, kind="amount_off", amount=1000, scope="products", scope_ids=[covered.product_id]
    )
    refused = place(customer, [(other, 1)], coupon_id=second.pk)
    assert refused.status_code == 422 and refused.json()["detail"]["reason"] == "not_applicable"


def test_category_scope_covers_sub_categories(customer, make_product, coupon_for, place):
    from quanzi.catalog.models import Category

    food = Category.objects.create(name="食品")
    rice = Category.objects.create(name="大米", parent=food)
    toys = Category.objects.create(name="玩具")
    in_sub = make_product(price=3000, category=rice.pk).skus.get()
    outside = make_product(price=3000, category=toys.pk).skus.get()
    coupon = coupon_for(
        customer, kind="percent_off", percent_bp=1000, scope="categories", scope_ids=[food.pk]
    )
    order = place(customer, [(in_sub, 1), (outside, 1)], coupon_id=coupon.pk).json()
    assert order["discount"] == 300
    lines = {line["sku_id"]: line for line in order["lines"]}
    assert lines[outside.pk]["breakdown"]["coupon"] == 0


def test_validity_windows(customer, make_product, coupon_for, place):
    sku = make_product(price=3000).skus.get()
    now = timezone.now()
    later = coupon_for(
        customer, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=2)
    )
    early = place(customer, [(sku, 1)], coupon_id=later.pk)
    assert early.status_code == 422 and early.json()["detail"]["reason"] == "not_started"
    by_days = coupon_for(customer, valid_days=3)
    assert abs((by_days.valid_until - by_days.created_at) - timedelta(days=3)) < timedelta(
        seconds=5
    )
    Coupon.objects.filter(pk=by_days.pk).update(valid_until=now - timedelta(seconds=1))
    late = place(customer, [(sku, 1)], coupon_id=by_days.pk)
    assert late.status_code == 422 and late.json()["detail"]["reason"] == "expired"


def test_expiry_sweep_expires_unused_coupons_only(customer, make_product, coupon_for, place):
    sku = make_product(price=3000).skus.get()
    used = coupon_for(customer, valid_days=1)
    unused = coupon_for(customer, valid_days=1)
    fresh = coupon_for(customer, valid_days=30)
    assert place(customer, [(sku, 1)], coupon_id=used.pk).status_code == 201
    assert coupons_expire_due(now=timezone.now() + timedelta(days=2)) == 1
    states = dict(Coupon.objects.values_list("id", "status"))
    assert states == {used.pk: "used", unused.pk: "expired", fresh.pk: "unused"}
    assert coupons_expire_due(now=timezone.now() + timedelta(days=2)) == 0  # idempotent
    mine = customer.api.get("/me/coupons?status=expired").json()["items"]
    assert [c["id"] for c in mine] == [unused.pk]


def test_claim_respects_per_user_limit_and_total(make_user, operator):
    created = operator.api.post(
        "/admin/coupon-templates",
        {
            "name": "新人券",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 0,
            "scope": "all",
            "valid_days": 7,
            "total": 3,
            "per_user_limit": 2,
        },
    )
    assert created.status_code == 201, created.content
    template_id = created.json()["id"]
    alice, bob = make_user(), make_user()
    first = alice.api.post(f"/coupon-templates/{template_id}/claim")
    assert first.status_code == 201 and set(first.json()) == {"coupon_id", "valid_until"}
    assert alice.api.post(f"/coupon-templates/{template_id}/claim").status_code == 201
    third = alice.api.post(f"/coupon-templates/{template_id}/claim")
    assert third.status_code == 409 and third.json()["code"] == "already_claimed"
    assert bob.api.post(f"/coupon-templates/{template_id}/claim").status_code == 201
    gone = bob.api.post(f"/coupon-templates/{template_id}/claim")
    assert gone.status_code == 409 and gone.json()["code"] == "sold_out"
    assert CouponTemplate.objects.get(pk=template_id).issued == 3
    listed = [t["id"] for t in alice.api.get("/coupon-templates").json()["items"]]
    assert template_id not in listed  # all gone: no longer offered


def test_coupon_centre_lists_only_claimable_templates(anon, make_template, customer):
    shown = make_template(name="领券中心")
    hidden = make_template(name="仅发放", claimable=False)
    off = make_template(name="已停用")
    off.is_active = False
    off.save()
    listed = [t["id"] for t in anon.get("/coupon-templates").json()["items"]]
    assert shown.pk in listed and hidden.pk not in listed and off.pk not in listed
    assert customer.api.post(f"/coupon-templates/{hidden.pk}/claim").status_code == 404


def test_template_input_is_validated(operator):
    base = {
        "name": "x",
        "kind": "amount_off",
        "amount": 100,
        "threshold": 0,
        "total": 10,
        "per_user_limit": 1,
        "valid_days": 7,
    }
    cases = [
        {**base, "amount": None},
        {**base, "kind": "percent_off", "amount": None},
        {**base, "scope": "products"},
        {**base, "valid_days": None},
        {
            **base,
            "valid_from": "2030-01-02T00:00:00+08:00",
            "valid_until": "2030-01-01T00:00:00+08:00",
            "valid_days": None,
        },
        {**base, "total": 0},
    ]
    for body in cases:
        response = operator.api.post("/admin/coupon-templates", body)
        assert response.status_code == 422, body
        assert response.json()["code"] in ("invalid_coupon", "validation_error")


def test_one_coupon_is_used_once(customer, make_product, coupon_for, place):
    sku = make_product(price=3000).skus.get()
    coupon = coupon_for(customer)
    assert place(customer, [(sku, 1)], coupon_id=coupon.pk).status_code == 201
    again = place(customer, [(sku, 1)], coupon_id=coupon.pk)
    assert again.status_code == 422 and again.json()["detail"]["reason"] == "used"


def test_someone_elses_coupon_cannot_be_used(make_user, make_product, coupon_for, place):
    owner, thief = make_user(), make_user()
    sku = make_product(price=3000).skus.get()
    coupon = coupon_for(owner)
    response = place(thief, [(sku, 1)], coupon_id=coupon.pk)
    assert response.status_code == 422 and response.json()["detail"]["reason"] == "not_found"


def test_coupon_comes_back_when_the_order_is_cancelled(customer, make_product, coupon_for, place):
    sku = make_product(price=3000).skus.get()
    coupon = coupon_for(customer)
    order = place(customer, [(sku, 1)], coupon_id=coupon.pk).json()
    assert customer.api.post(f"/orders/{order['id']}/cancel").status_code == 200
    back = Coupon.objects.get(pk=coupon.pk)
    assert back.status == "unused" and back.order_id is None
    assert place(customer, [(sku, 1)], coupon_id=coupon.pk).status_code == 201


def test_coupon_comes_back_on_a_full_refund_before_shipping_only(
    customer, make_product, coupon_for, place, pay, refund_all, deliver
):
    sku = make_product(price=3000).skus.get()
    early = coupon_for(customer)
    order = place(customer, [(sku, 1)], coupon_id=early.pk).json()
    pay(customer, order["id"])
    assert refund_all(customer, order["id"])["status"] == "refunded"
    assert Coupon.objects.get(pk=early.pk).status == "unused"

    late = coupon_for(customer)
    order = place(customer, [(sku, 1)], coupon_id=late.pk).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    assert refund_all(customer, order["id"])["status"] == "refunded"
    assert Coupon.objects.get(pk=late.pk).status == "used"  # the goods went out


def test_operator_grant_respects_the_total(operator, make_user, make_template):
    template = make_template(total=2, claimable=False)
    users = [make_user() for _ in range(3)]
    response = operator.api.post(
        f"/admin/coupon-templates/{template.pk}/grant", {"user_ids": [u.pk for u in users]}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [g["user_id"] for g in body["granted"]] == [users[0].pk, users[1].pk]
    assert body["failed"] == [{"user_id": users[2].pk, "code": "sold_out"}]
    assert Coupon.objects.filter(template=template, source="grant").count() == 2
    customer = users[0]
    assert (
        customer.api.post(
            f"/admin/coupon-templates/{template.pk}/grant", {"user_ids": [1]}
        ).status_code
        == 403
    )


def test_new_users_get_the_new_user_gift(anon, make_template):
    gift = make_template(name="新人礼", new_user_gift=True, claimable=False)
    make_template(name="普通券")
    response = anon.post(
        "/auth/register", {"phone": "13812345678", "password": "secret123", "nickname": "新人"}
    )
    assert response.status_code == 201, response.content
    coupons = Coupon.objects.filter(user_id=response.json()["user_id"])
    assert [(c.template_id, c.source) for c in coupons] == [(gift.pk, "new_user")]


def test_sold_out_gift_does_not_block_sign_up(anon, make_template):
    gift = make_template(new_user_gift=True, total=1)
    first = anon.post(
        "/auth/register", {"phone": "13812345670", "password": "secret123", "nickname": "a"}
    )
    second = anon.post(
        "/auth/register", {"phone": "13812345671", "password": "secret123", "nickname": "b"}
    )
    assert first.status_code == second.status_code == 201
    assert Coupon.objects.filter(template=gift).count() == 1


def test_settlement_books_the_coupon_as_marketing_subsidy(
    customer, make_product, coupon_for, place, pay, deliver, settle
):
    from quanzi.ledger import accounts as chart

    sku = make_product(price=3000, supply_price=2500).skus.get()
    coupon = coupon_for(customer, kind="amount_off", amount=1000)
    order = place(customer, [(sku, 1)], coupon_id=coupon.pk).json()
    assert order["payable"] == 2000  # below the supply price: the platform funds the gap
    pay(customer, order["id"])
    deliver(customer, order["id"])
    assert settle() == 1
    assert balance(COUPON_SUBSIDY) == 1000
    # customer money + subsidy = supplier cost + platform revenue
    assert balance(chart.supplier_payable(None)) == -2500
    assert balance(chart.PLATFORM_REVENUE) == -(2000 + 1000 - 2500)


def test_partial_refund_before_settlement_books_the_kept_share(
    customer, make_product, coupon_for, place, pay, deliver, refund_all, settle
):
    sku = make_product(price=3000, supply_price=1000).skus.get()
    coupon = coupon_for(customer, kind="amount_off", amount=900)
    order = place(customer, [(sku, 3)], coupon_id=coupon.pk).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    line = order["lines"][0]
    refund_all(customer, order["id"], lines=[{"line_id": line["id"], "qty": 1}])
    assert settle() == 1
    assert balance(COUPON_SUBSIDY) == 600  # two of three units kept


@pytest.mark.parametrize("status", ["unused", "used"])
def test_my_coupons_lists_own_coupons(customer, make_user, coupon_for, make_product, place, status):
    sku = make_product(price=3000).skus.get()
    mine = coupon_for(customer)
    coupon_for(make_user())
    if status == "used":
        place(customer, [(sku, 1)], coupon_id=mine.pk)
    items = customer.api.get("/me/coupons").json()["items"]
    assert [(c["id"], c["status"]) for c in items] == [(mine.pk, status)]


def test_coupon_claim_bursts_are_rate_limited(operator, make_user, monkeypatch):
    import time
    from types import SimpleNamespace

    from quanzi.core import ratelimit
    from quanzi.core.platform_settings import settings_update

    # One instant for the limiter: the claims cannot straddle two of its windows (the
    # fifth would then start a new window and reach risk control's burst rule).
    now = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))

    settings_update(
        patch={"rate_limits": {"coupon_claim_per_user": {"limit": 3, "window_seconds": 60}}}
    )
    user = make_user()
    templates = [
        operator.api.post(
            "/admin/coupon-templates",
            {
                "name": f"满100减{i}",
                "kind": "amount_off",
                "amount": 100 + i,
                "threshold": 10000,
                "scope": "all",
                "valid_days": 7,
                "total": 100,
                "per_user_limit": 1,
            },
        ).json()["id"]
        for i in range(4)
    ]
    codes = [user.api.post(f"/coupon-templates/{t}/claim").status_code for t in templates]
    assert codes == [201, 201, 201, 429]
    assert user.api.post(f"/coupon-templates/{templates[3]}/claim").json()["code"] == "rate_limited"
