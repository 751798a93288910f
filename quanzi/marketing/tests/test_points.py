"""Points: sign-in, earning on completed orders, spending, returning on cancel and
refund, claw-back, expiry, and the ledger kept in its own unit."""

from datetime import timedelta

from django.utils import timezone

from quanzi.core.platform_settings import settings_update
from quanzi.ledger.services import balance
from quanzi.marketing.models import PointsLot, PointsWallet
from quanzi.marketing.observer import POINTS_SUBSIDY
from quanzi.marketing.points import (
    points_balance,
    points_credit,
    points_debit,
    points_expire_due,
)


def _reasons(user):
    return [(i["amount"], i["reason"]) for i in user.api.get("/me/points").json()["items"]]


def test_daily_sign_in_once_per_day(customer):
    first = customer.api.post("/me/sign-in")
    assert first.status_code == 201 and first.json()["points"] == 10
    assert first.json()["balance"] == 10
    again = customer.api.post("/me/sign-in")
    assert again.status_code == 409 and again.json()["code"] == "already_signed_in"
    page = customer.api.get("/me/points").json()
    assert page["balance"] == 10
    assert [(i["amount"], i["reason"]) for i in page["items"]] == [(10, "sign_in")]


def test_completed_order_earns_points_by_what_it_paid(customer, make_product, place, pay, deliver):
    settings_update(patch={"points": {"earn_per_yuan": 2}})
    sku = make_product(price=2550, supply_price=1000).skus.get()
    order = place(customer, [(sku, 2)]).json()
    pay(customer, order["id"])
    assert points_balance(user_id=customer.pk) == 0  # paid is not enough
    deliver(customer, order["id"])
    assert points_balance(user_id=customer.pk) == 102  # ¥51 × 2
    assert _reasons(customer) == [(102, "order_earn")]


def test_spending_points_as_money(customer, make_product, give_points, place):
    give_points(customer, 5000)
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 1)], points=3000)
    assert order.status_code == 201, order.content
    body = order.json()
    assert body["points_used"] == 3000 and body["discount"] == 3000 and body["payable"] == 7000
    assert body["lines"][0]["breakdown"]["points"] == 3000
    assert points_balance(user_id=customer.pk) == 2000
    assert _reasons(customer)[0] == (-3000, "order_spend")


def test_spending_more_than_the_balance_is_refused(customer, make_product, give_points, place):
    give_points(customer, 100)
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    response = place(customer, [(sku, 1)], points=101)
    assert response.status_code == 422 and response.json()["code"] == "insufficient_points"
    assert points_balance(user_id=customer.pk) == 100


def test_points_cap_at_the_share_of_the_goods(customer, make_product, give_points, place):
    give_points(customer, 10_000)
    settings_update(patch={"points": {"max_deduct_share_bp": 1000}})
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    response = place(customer, [(sku, 1)], points=1001)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_points"
    assert response.json()["detail"]["max_points"] == 1000
    assert place(customer, [(sku, 1)], points=1000).status_code == 201


def test_points_never_make_an_order_free_unless_allowed(customer, make_product, give_points, place):
    give_points(customer, 10_000)
    settings_update(patch={"points": {"max_deduct_share_bp": 10_000}})
    sku = make_product(price=1000, supply_price=500).skus.get()
    refused = place(customer, [(sku, 1)], points=1000)
    assert refused.status_code == 422 and refused.json()["detail"]["max_points"] == 999
    settings_update(patch={"points": {"allow_free_orders": True}})
    free = place(customer, [(sku, 1)], points=1000)
    assert free.status_code == 201 and free.json()["payable"] == 0
    assert free.json()["status"] == "to_ship"  # nothing to pay: paid at once


def test_points_worth_follows_the_setting(customer, make_product, give_points, place):
    give_points(customer, 1000)
    settings_update(patch={"points": {"yuan_per_100_points": 2}})
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 1)], points=500).json()
    assert order["discount"] == 1000  # 500 points at 2 fen each


def test_points_come_back_when_the_order_is_cancelled(customer, make_product, give_points, place):
    give_points(customer, 1000)
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 1)], points=800).json()
    assert points_balance(user_id=customer.pk) == 200
    customer.api.post(f"/orders/{order['id']}/cancel")
    assert points_balance(user_id=customer.pk) == 1000
    assert _reasons(customer)[0] == (800, "order_spend_returned")


def test_refunds_return_spent_points_in_proportion(
    customer, make_product, give_points, place, pay, refund_all
):
    give_points(customer, 900)
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 3)], points=900).json()
    pay(customer, order["id"])
    line = order["lines"][0]
    refund_all(customer, order["id"], lines=[{"line_id": line["id"], "qty": 1}])
    assert points_balance(user_id=customer.pk) == 300
    refund_all(customer, order["id"])
    assert points_balance(user_id=customer.pk) == 900  # all of it once all is refunded


def test_refund_claws_back_earned_points(customer, make_product, place, pay, deliver, refund_all):
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 2)]).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    assert points_balance(user_id=customer.pk) == 200
    line = order["lines"][0]
    refund_all(customer, order["id"], lines=[{"line_id": line["id"], "qty": 1}])
    assert points_balance(user_id=customer.pk) == 100
    assert _reasons(customer)[0] == (-100, "order_earn_clawed_back")


def test_claw_back_of_spent_points_is_owed_not_lost(
    customer, make_product, place, pay, deliver, refund_all, give_points
):
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 2)]).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    points_debit(user_id=customer.pk, amount=150, reason="lottery", key="lottery:1")
    refund_all(customer, order["id"])
    assert points_balance(user_id=customer.pk) == 0
    page = customer.api.get("/me/points").json()
    assert page["owed"] == 150
    give_points(customer, 100)
    assert points_balance(user_id=customer.pk) == 0
    assert PointsWallet.objects.get(user=customer).owed == 50
    give_points(customer, 100)
    assert points_balance(user_id=customer.pk) == 50
    assert PointsWallet.objects.get(user=customer).owed == 0


def test_credit_and_debit_are_idempotent_on_their_key(customer):
    first = points_credit(user_id=customer.pk, amount=50, reason="share_reward", key="reward:7")
    second = points_credit(user_id=customer.pk, amount=50, reason="share_reward", key="reward:7")
    assert first.pk == second.pk and points_balance(user_id=customer.pk) == 50
    points_debit(user_id=customer.pk, amount=20, reason="lottery", key="draw:1")
    points_debit(user_id=customer.pk, amount=20, reason="lottery", key="draw:1")
    assert points_balance(user_id=customer.pk) == 30
    assert balance(f"user:{customer.pk}:points") == -30


def test_points_expire_oldest_first(customer, give_points):
    give_points(customer, 100)
    PointsLot.objects.update(expires_at=timezone.now() + timedelta(days=1))
    give_points(customer, 50)
    points_debit(user_id=customer.pk, amount=30, reason="lottery", key="draw:2")
    # The 30 came out of the lot that expires first: 70 of it are left to expire.
    assert points_expire_due(now=timezone.now() + timedelta(days=2)) == 1
    assert points_balance(user_id=customer.pk) == 50
    assert _reasons(customer)[0] == (-70, "expired")
    assert points_expire_due(now=timezone.now() + timedelta(days=2)) == 0
    assert points_expire_due(now=timezone.now() + timedelta(days=400)) == 1
    assert points_balance(user_id=customer.pk) == 0


def test_expired_points_cannot_be_spent_before_the_sweep(customer, give_points):
    give_points(customer, 100)
    PointsLot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = None
    try:
        points_debit(user_id=customer.pk, amount=10, reason="lottery", key="draw:3")
    except Exception as exc:  # noqa: BLE001
        response = exc
    assert getattr(response, "code", None) == "insufficient_points"
    # The refusal rolled back with its transaction; the sweep expires them for good.
    assert points_expire_due() == 1
    assert points_balance(user_id=customer.pk) == 0


def test_settlement_books_points_as_marketing_subsidy(
    customer, make_product, give_points, place, pay, deliver, settle
):
    give_points(customer, 2000)
    sku = make_product(price=10_000, supply_price=5000).skus.get()
    order = place(customer, [(sku, 1)], points=2000).json()
    pay(customer, order["id"])
    deliver(customer, order["id"])
    settle()
    assert balance(POINTS_SUBSIDY) == 2000
    assert balance("platform_revenue") == -(8000 + 2000 - 5000)
    assert balance("points_redeemed") == -2000  # PTS


def test_operator_adjusts_points_with_a_reason(operator, customer):
    given = operator.api.post(
        f"/admin/users/{customer.pk}/points", {"amount": 300, "reason": "补偿"}
    )
    assert given.status_code == 201 and given.json()["balance"] == 300
    taken = operator.api.post(f"/admin/users/{customer.pk}/points", {"amount": -500, "reason": "x"})
    assert taken.status_code == 422 and taken.json()["code"] == "insufficient_points"
    assert _reasons(customer) == [(300, "operator: 补偿")]
    assert (
        customer.api.post(
            f"/admin/users/{customer.pk}/points", {"amount": 1, "reason": "x"}
        ).status_code
        == 403
    )
