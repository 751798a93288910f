"""Draws paid with points, and points / coupon prizes (through the marketing app)."""

from __future__ import annotations

from quanzi.rewards.models import LotteryDraw, LotteryPrize


def _balance(user) -> int:
    from quanzi.marketing.points import points_balance

    return points_balance(user_id=user.pk)


def _give(user, amount: int) -> None:
    from quanzi.marketing.points import points_credit

    points_credit(user_id=user.pk, amount=amount, reason="test", key=f"test:{user.pk}:{amount}")


def _template(total: int = 100) -> int:
    from quanzi.marketing.services import coupon_template_create

    return coupon_template_create(
        data={
            "name": "抽奖券",
            "kind": "amount_off",
            "amount": 300,
            "threshold": 0,
            "scope": "all",
            "valid_days": 7,
            "total": total,
            "per_user_limit": 1,
        }
    ).pk


def test_after_the_free_draws_each_draw_costs_points(customer, make_lottery):
    lottery = make_lottery(
        prizes=[{"name": "10 积分", "kind": "points", "weight": 1, "points": 10}],
        cost_points=50,
        free_draws_per_day=1,
    )
    _give(customer, 100)
    first = customer.api.post(f"/lotteries/{lottery['id']}/draw").json()
    assert (first["free"], first["cost_points"]) == (True, 0)
    assert first["prize"]["kind"] == "points" and first["status"] == "won"
    assert _balance(customer) == 110
    second = customer.api.post(f"/lotteries/{lottery['id']}/draw").json()
    assert (second["free"], second["cost_points"]) == (False, 50)
    assert _balance(customer) == 110 - 50 + 10
    customer.api.post(f"/lotteries/{lottery['id']}/draw")
    assert _balance(customer) == 70 - 50 + 10
    short = customer.api.post(f"/lotteries/{lottery['id']}/draw")  # 30 points left
    assert short.status_code == 422 and short.json()["code"] == "insufficient_points"
    assert _balance(customer) == 30
    assert LotteryDraw.objects.filter(user=customer).count() == 3
    assert LotteryPrize.objects.get().given == 3


def test_a_coupon_prize_issues_a_coupon(customer, make_lottery):
    from quanzi.marketing.models import Coupon

    template_id = _template()
    lottery = make_lottery(
        prizes=[
            {"name": "3 元券", "kind": "coupon", "weight": 1, "coupon_template_id": template_id}
        ]
    )
    draw = customer.api.post(f"/lotteries/{lottery['id']}/draw").json()
    coupon = Coupon.objects.get(user=customer)
    assert draw["coupon_id"] == coupon.pk
    assert (coupon.template_id, coupon.source) == (template_id, f"lottery:{draw['draw_id']}")


def test_a_coupon_prize_whose_coupons_ran_out_drops_out(make_user, make_lottery):
    template_id = _template(total=1)
    lottery = make_lottery(
        prizes=[
            {
                "name": "3 元券",
                "kind": "coupon",
                "weight": 1_000_000,
                "coupon_template_id": template_id,
            },
            {"name": "谢谢参与", "kind": "none", "weight": 1},
        ]
    )
    first = make_user().api.post(f"/lotteries/{lottery['id']}/draw").json()
    second = make_user().api.post(f"/lotteries/{lottery['id']}/draw").json()
    assert first["prize"]["kind"] == "coupon"
    assert second["prize"] is None and second["slot"]["name"] == "谢谢参与"
    assert LotteryPrize.objects.get(kind="coupon").given == 1
