"""Member levels by growth value: growth on payment, reversed on refund; the level's
discount and points multiplier; the operator's level table."""

from quanzi.marketing.points import points_balance
from quanzi.membership.models import MemberLevel


def _levels(operator, *levels):
    for name, min_growth, discount_bp, multiplier in levels:
        response = operator.api.post(
            "/admin/member-levels",
            {
                "name": name,
                "min_growth": min_growth,
                "discount_bp": discount_bp,
                "points_multiplier_bp": multiplier,
            },
        )
        assert response.status_code == 201, response.content


def test_growth_follows_paid_spending_and_refunds(customer, operator, make_product, buy):
    _levels(operator, ("普通", 0, 0, 10_000), ("黄金", 10_000, 0, 10_000))
    sku = make_product(price=6000, supply_price=3000).skus.get()
    state = customer.api.get("/me/membership").json()
    assert state["growth"] == 0 and state["level"]["name"] == "普通"
    assert state["next_level"]["name"] == "黄金" and state["next_level"]["growth_needed"] == 10_000
    buy(customer, sku, pay=False)  # unpaid orders do not count
    assert customer.api.get("/me/membership").json()["growth"] == 0
    order = buy(customer, sku, qty=2)
    state = customer.api.get("/me/membership").json()
    assert state["growth"] == 12_000 and state["level"]["name"] == "黄金"
    line = order["lines"][0]
    refund = customer.api.post(
        f"/orders/{order['id']}/refunds", {"lines": [{"line_id": line["id"], "qty": 1}]}
    ).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    state = customer.api.get("/me/membership").json()
    assert state["growth"] == 6000 and state["level"]["name"] == "普通"


def test_growth_excludes_shipping(customer, operator, make_product, buy):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"shipping": {"fee": 800}})
    sku = make_product(price=6000, supply_price=3000).skus.get()
    order = buy(customer, sku)
    assert order["payable"] == 6800
    assert customer.api.get("/me/membership").json()["growth"] == 6000


def test_level_discount_never_goes_below_supply_price(customer, operator, make_product, buy):
    _levels(operator, ("钻石", 0, 2000, 10_000))
    normal = make_product(price=10_000, supply_price=5000).skus.get()
    thin = make_product(price=10_000, supply_price=9000).skus.get()
    assert buy(customer, normal, pay=False)["lines"][0]["unit_price"] == 8000
    assert buy(customer, thin, pay=False)["lines"][0]["unit_price"] == 9000


def test_level_multiplies_earned_points(customer, operator, make_product, buy):
    _levels(operator, ("铂金", 0, 0, 15_000))
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = buy(customer, sku)
    operator.api.post(f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF"})
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert points_balance(user_id=customer.pk) == 150  # ¥100 × 1 point × 1.5


def test_plan_multiplier_wins_when_higher(customer, operator, make_product, buy):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.membership.models import Membership
    from quanzi.membership.services import plan_create

    _levels(operator, ("铂金", 0, 0, 15_000))
    plan = plan_create(name="年卡", price=9900, duration_days=365, points_multiplier_bp=20_000)
    now = timezone.now()
    Membership.objects.create(
        user=customer, plan=plan, started_at=now, expires_at=now + timedelta(days=1)
    )
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = buy(customer, sku)
    operator.api.post(f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF"})
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert points_balance(user_id=customer.pk) == 200


def test_level_table_crud(operator, customer, anon):
    made = operator.api.post(
        "/admin/member-levels", {"name": "白银", "min_growth": 5000, "discount_bp": 100}
    )
    assert made.status_code == 201
    level_id = made.json()["id"]
    clash = operator.api.post("/admin/member-levels", {"name": "重复", "min_growth": 5000})
    assert clash.status_code == 422 and clash.json()["code"] == "level_exists"
    too_much = operator.api.post(
        "/admin/member-levels", {"name": "x", "min_growth": 1, "discount_bp": 9_500}
    )
    assert too_much.status_code == 422
    changed = operator.api.patch(f"/admin/member-levels/{level_id}", {"discount_bp": 300})
    assert changed.status_code == 200 and changed.json()["discount_bp"] == 300
    assert [lvl["name"] for lvl in anon.get("/member-levels").json()] == ["白银"]
    assert (
        customer.api.post("/admin/member-levels", {"name": "y", "min_growth": 1}).status_code == 403
    )
    assert customer.api.delete(f"/admin/member-levels/{level_id}").status_code == 403
    assert operator.api.delete(f"/admin/member-levels/{level_id}").status_code == 204
    assert not MemberLevel.objects.exists()
    assert operator.api.delete(f"/admin/member-levels/{level_id}").status_code == 404
