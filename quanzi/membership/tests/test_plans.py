"""Paid membership plans: bought like any order, activated on payment, renewed, expired,
refunded, with member prices, free shipping and monthly coupons — and no one earns
anything on the fee."""

from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from quanzi.accounts.services import referrer_bind
from quanzi.core.platform_settings import settings_update
from quanzi.ledger.models import Posting
from quanzi.marketing.models import Coupon, PointsTxn
from quanzi.membership.models import GrowthEntry, Membership
from quanzi.membership.services import memberships_expire, monthly_coupons_grant
from quanzi.orders.models import Order
from quanzi.orders.services import orders_settle_due


def _close(a: str, b) -> bool:
    from datetime import datetime

    return abs(datetime.fromisoformat(a) - b) < timedelta(seconds=10)


def test_buying_a_plan_makes_the_buyer_a_member(customer, make_plan, buy_plan, anon):
    plan = make_plan(name="年卡", price=9900, duration_days=365)
    assert plan["id"] in [p["id"] for p in anon.get("/membership-plans").json()]
    assert customer.api.get("/me/membership").json()["plan"] is None
    order = buy_plan(customer, plan["id"])
    assert order["channel"] == "membership" and order["status"] == "completed"
    assert order["payable"] == 9900 and order["shipping"] == 0 and order["address"] == {}
    state = customer.api.get("/me/membership").json()
    assert state["plan"]["id"] == plan["id"] and state["plan"]["name"] == "年卡"
    assert _close(state["plan"]["expires_at"], timezone.now() + timedelta(days=365))


def test_plan_buy_is_idempotent(customer, make_plan):
    plan = make_plan()
    first = customer.api.post(
        f"/membership-plans/{plan['id']}/buy", headers={"Idempotency-Key": "k1"}
    )
    again = customer.api.post(
        f"/membership-plans/{plan['id']}/buy", headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.objects.filter(user=customer, channel="membership").count() == 1


def test_member_price_applies_once_the_plan_is_paid(
    customer, make_plan, buy_plan, make_product, buy
):
    sku = make_product(price=5000, supply_price=3000, member_price=4200).skus.get()
    before = buy(customer, sku, pay=False)
    assert before["lines"][0]["unit_price"] == 5000
    buy_plan(customer, make_plan()["id"])
    after = buy(customer, sku, pay=False)
    assert after["lines"][0]["unit_price"] == 4200 and after["payable"] == 4200
    assert after["total"] == 5000 and after["discount"] == 800


def test_members_ship_free_when_the_plan_says_so(make_user, make_plan, buy_plan, make_product, buy):
    settings_update(patch={"shipping": {"fee": 800}})
    sku = make_product(price=5000).skus.get()
    free, paying = make_user(), make_user()
    assert buy(free, sku, pay=False)["shipping"] == 800
    buy_plan(free, make_plan(free_shipping=True)["id"])
    buy_plan(paying, make_plan(name="省钱卡", free_shipping=False)["id"])
    assert buy(free, sku, pay=False)["shipping"] == 0
    assert buy(paying, sku, pay=False)["shipping"] == 800


def test_renewal_extends_the_period(customer, make_plan, buy_plan):
    quarter = make_plan(name="季卡", price=3000, duration_days=90)
    buy_plan(customer, quarter["id"])
    first = Membership.objects.get(user=customer).expires_at
    buy_plan(customer, quarter["id"])
    membership = Membership.objects.get(user=customer)
    assert membership.expires_at == first + timedelta(days=90)
    assert membership.status == "active"


def test_expiry_sweep_ends_the_benefits(customer, make_plan, buy_plan, make_product, buy):
    sku = make_product(price=5000, supply_price=3000, member_price=4000).skus.get()
    plan = make_plan(duration_days=30)
    buy_plan(customer, plan["id"])
    assert memberships_expire() == 0
    assert memberships_expire(now=timezone.now() + timedelta(days=31)) == 1
    assert Membership.objects.get(user=customer).status == "expired"
    assert customer.api.get("/me/membership").json()["plan"] is None
    assert buy(customer, sku, pay=False)["lines"][0]["unit_price"] == 5000
    # Buying again after expiry starts a new period from now.
    buy_plan(customer, plan["id"])
    state = customer.api.get("/me/membership").json()["plan"]
    assert _close(state["expires_at"], timezone.now() + timedelta(days=30))


def test_paying_for_a_plan_rewards_no_one(make_user, make_plan, buy_plan):
    upline = make_user(nickname="店主")
    buyer = make_user()
    assert referrer_bind(user=buyer, referrer=upline, source="invite_code")
    order = buy_plan(buyer, make_plan(price=19_900)["id"])
    record = Order.objects.get(pk=order["id"])
    assert record.commission_enabled is False
    # Whatever the distribution app records, nothing of it exists for this order.
    for model in apps.get_app_config("distribution").get_models():
        fields = {f.name for f in model._meta.get_fields()}
        if "order" in fields or "order_id" in fields:
            key = "order_id" if "order_id" in fields else "order"
            assert not model.objects.filter(**{key: record.pk}).exists(), model.__name__
    assert orders_settle_due(now=timezone.now() + timedelta(days=30)) == 1
    codes = set(
        Posting.objects.filter(entry__order_id=record.pk).values_list("account__code", flat=True)
    )
    assert codes == {"gateway:sandbox", "customer_funds", "platform_revenue"}
    assert not PointsTxn.objects.filter(order_id=record.pk).exists()
    assert not GrowthEntry.objects.filter(order_id=record.pk).exists()
    assert buyer.api.get("/me/membership").json()["growth"] == 0


def test_coupons_and_points_are_refused_on_plan_orders(customer, make_plan):
    from quanzi.core.errors import Invalid
    from quanzi.membership.models import MembershipPlan
    from quanzi.orders.services import order_place

    plan = MembershipPlan.objects.get(pk=make_plan()["id"])
    for extra in ({"coupon_id": 1}, {"points": 10}):
        try:
            order_place(
                user=customer,
                items=[{"sku_id": plan.sku_id, "qty": 1}],
                channel="membership",
                extra={"plan_id": plan.pk},
                **extra,
            )
        except Invalid as exc:
            assert exc.code in ("coupon_not_allowed", "points_not_allowed")
        else:
            raise AssertionError(f"{extra} was accepted on a plan order")


def test_the_plan_product_is_not_sold_through_the_shop(customer, make_plan, anon, make_address):
    from quanzi.membership.models import MembershipPlan

    plan = MembershipPlan.objects.get(pk=make_plan()["id"])
    listed = [p["id"] for p in anon.get("/products").json()["items"]]
    assert plan.product_id not in listed
    address = make_address(customer)
    response = customer.api.post(
        "/orders", {"items": [{"sku_id": plan.sku_id, "qty": 1}], "address_id": address.pk}
    )
    assert response.status_code == 422 and response.json()["code"] == "sku_unavailable"


def test_refund_takes_the_unused_time_away(customer, operator, make_plan, buy_plan):
    order = buy_plan(customer, make_plan(duration_days=365)["id"])
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不想要了"})
    assert refund.status_code == 201, refund.content
    assert operator.api.post(f"/admin/refunds/{refund.json()['id']}/approve").status_code == 200
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert customer.api.get("/me/membership").json()["plan"] is None
    assert Membership.objects.get(user=customer).status == "expired"


def test_monthly_coupons_for_members(customer, operator, make_plan, buy_plan):
    template = operator.api.post(
        "/admin/coupon-templates",
        {
            "name": "会员月券",
            "kind": "amount_off",
            "amount": 1000,
            "threshold": 5000,
            "valid_days": 30,
            "total": 1000,
            "per_user_limit": 1,
            "claimable": False,
        },
    ).json()
    plan = make_plan(monthly_coupon_template_id=template["id"])
    buy_plan(customer, plan["id"])
    coupons = Coupon.objects.filter(user=customer, template_id=template["id"])
    assert [c.source for c in coupons.all()] == ["membership"]  # this month's, at once
    assert monthly_coupons_grant() == 0  # once per month
    assert monthly_coupons_grant(now=timezone.now() + timedelta(days=31)) == 1
    assert coupons.count() == 2
    assert monthly_coupons_grant(now=timezone.now() + timedelta(days=400)) == 0  # expired


def test_plan_admin_needs_an_operator_and_valid_input(customer, operator):
    assert (
        customer.api.post(
            "/admin/membership-plans", {"name": "x", "price": 1, "duration_days": 1}
        ).status_code
        == 403
    )
    for body in (
        {"name": "x", "price": 0, "duration_days": 30},
        {"name": "x", "price": 100, "duration_days": 0},
        {"name": "x", "price": 100, "duration_days": 30, "monthly_coupon_template_id": 999_999},
    ):
        assert operator.api.post("/admin/membership-plans", body).status_code == 422, body
    made = operator.api.post(
        "/admin/membership-plans", {"name": "季卡", "price": 3000, "duration_days": 90}
    )
    plan_id = made.json()["id"]
    off = operator.api.patch(
        f"/admin/membership-plans/{plan_id}", {"is_active": False, "price": 2800}
    )
    assert off.status_code == 200 and off.json()["price"] == 2800 and not off.json()["is_active"]
    assert customer.api.post(f"/membership-plans/{plan_id}/buy").status_code == 404
