"""Drawing through the API: free draws, stock, dropping out, claiming a product."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.rewards.lottery import draw_replay
from quanzi.rewards.models import LotteryDay, LotteryDraw, LotteryPrize


def _product_prize(sku, *, stock: int = 1, weight: int = 1_000_000) -> dict:
    return {"name": "电饭煲", "kind": "product", "weight": weight, "stock": stock, "sku_id": sku.pk}


NOTHING = {"name": "谢谢参与", "kind": "none", "weight": 1}


def test_lottery_rules_are_validated(operator, customer, sku):
    base = {"title": "转盘", "cost_points": 0, "free_draws_per_day": 1}
    cases = [
        ({"prizes": []}, 422),
        ({"prizes": [{**NOTHING, "weight": 0}]}, 422),  # nothing to draw from
        ({"prizes": [{"name": "p", "kind": "product", "weight": 1, "sku_id": sku.pk}]}, 422),
        ({"prizes": [{"name": "c", "kind": "coupon", "weight": 1}]}, 422),
        ({"prizes": [{"name": "pts", "kind": "points", "weight": 1}]}, 422),
        ({"free_draws_per_day": 0, "prizes": [NOTHING]}, 422),  # neither free nor paid
    ]
    for patch, status in cases:
        answer = operator.api.post("/admin/lotteries", {**base, **patch})
        assert answer.status_code == status, (patch, answer.content)
    assert customer.api.post("/admin/lotteries", {**base, "prizes": [NOTHING]}).status_code == 403


def test_free_draws_per_day_are_limited(customer, make_lottery):
    lottery = make_lottery(prizes=[NOTHING], free_draws_per_day=2)
    for left in (1, 0):
        answer = customer.api.post(f"/lotteries/{lottery['id']}/draw")
        assert answer.status_code == 201, answer.content
        assert answer.json()["free"] is True
        assert answer.json()["prize"] is None  # a "nothing" slot wins nothing
        assert answer.json()["slot"]["name"] == "谢谢参与"
        assert customer.api.get(f"/lotteries/{lottery['id']}").json()["free_draws_left"] == left
    third = customer.api.post(f"/lotteries/{lottery['id']}/draw")
    assert third.status_code == 409 and third.json()["code"] == "no_draws_left"
    assert LotteryDraw.objects.filter(user=customer).count() == 2
    # The next day brings new free draws.
    LotteryDay.objects.filter(user=customer).update(day=timezone.localdate() - timedelta(days=1))
    assert customer.api.post(f"/lotteries/{lottery['id']}/draw").status_code == 201


def test_a_prize_out_of_stock_drops_out_of_the_draw(make_user, make_lottery, make_product):
    sku = make_product(stock=10).skus.get()
    lottery = make_lottery(prizes=[_product_prize(sku, stock=2), NOTHING], free_draws_per_day=50)
    user = make_user()
    kinds = [
        user.api.post(f"/lotteries/{lottery['id']}/draw").json()["slot"]["name"] for _ in range(8)
    ]
    # Weights 1,000,000 : 1 — the product comes out while it lasts, then never again.
    assert kinds.count("电饭煲") == 2
    assert kinds[2:] == ["谢谢参与"] * 6
    prize = LotteryPrize.objects.get(kind="product")
    assert (prize.stock, prize.given) == (0, 2)
    shown = user.api.get(f"/lotteries/{lottery['id']}").json()
    assert [p["stock"] for p in shown["prizes"]] == [0, None]
    last = LotteryDraw.objects.order_by("-pk").first()
    assert last.pool == [[LotteryPrize.objects.get(kind="none").pk, 1]]
    assert draw_replay(seed=last.seed, pool=last.pool) == last.prize_id


def test_every_draw_is_logged_with_a_seed_that_replays_it(customer, make_lottery):
    lottery = make_lottery(
        prizes=[
            {**NOTHING, "name": "A", "weight": 3},
            {**NOTHING, "name": "B", "weight": 5},
            {**NOTHING, "name": "C", "weight": 2},
        ],
        free_draws_per_day=20,
    )
    for _ in range(10):
        customer.api.post(f"/lotteries/{lottery['id']}/draw")
    draws = list(LotteryDraw.objects.filter(user=customer))
    assert len(draws) == 10
    for draw in draws:
        assert sum(w for _, w in draw.pool) == 10
        assert 0 <= draw.roll < 10
        assert draw_replay(seed=draw.seed, pool=draw.pool) == draw.prize_id


def test_an_empty_pool_refuses_without_using_the_free_draw(customer, make_lottery, make_product):
    sku = make_product(stock=5).skus.get()
    lottery = make_lottery(prizes=[_product_prize(sku, stock=1)], free_draws_per_day=3)
    assert customer.api.post(f"/lotteries/{lottery['id']}/draw").status_code == 201
    empty = customer.api.post(f"/lotteries/{lottery['id']}/draw")
    assert empty.status_code == 409 and empty.json()["code"] == "prize_pool_empty"
    assert customer.api.get(f"/lotteries/{lottery['id']}").json()["free_draws_left"] == 2


def test_a_won_product_is_claimed_as_a_free_order_and_its_cost_is_subsidy(
    customer, operator, make_user, make_address, make_lottery, make_product
):
    from quanzi.ledger.services import balance
    from quanzi.orders.services import orders_settle_due

    sku = make_product(price=9_900, supply_price=4_000, stock=10).skus.get()
    lottery = make_lottery(prizes=[_product_prize(sku, stock=3)])
    assert SKU.objects.get(pk=sku.pk).stock == 7  # set aside for the winners
    draw = customer.api.post(f"/lotteries/{lottery['id']}/draw").json()
    assert draw["status"] == "unclaimed" and draw["prize"]["kind"] == "product"

    stranger = make_user()
    other = stranger.api.post(
        f"/lottery-draws/{draw['draw_id']}/claim", {"address_id": make_address(stranger).pk}
    )
    assert other.status_code == 404
    address = make_address(customer)
    claimed = customer.api.post(
        f"/lottery-draws/{draw['draw_id']}/claim", {"address_id": address.pk}
    )
    assert claimed.status_code == 201, claimed.content
    order = customer.api.get(f"/orders/{claimed.json()['order_id']}").json()
    assert (order["channel"], order["payable"], order["shipping"]) == ("lottery", 0, 0)
    assert order["status"] == "to_ship"
    assert order["lines"][0]["unit_price"] == 0
    assert SKU.objects.get(pk=sku.pk).stock == 7  # no second reservation
    again = customer.api.post(f"/lottery-draws/{draw['draw_id']}/claim", {"address_id": address.pk})
    assert again.status_code == 409 and again.json()["code"] == "already_claimed"

    operator.api.post(f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "L1"})
    customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1
    assert balance("marketing_subsidy") == 4_000
    assert balance("platform_revenue") == 0


def test_closing_a_lottery_gives_unawarded_units_back(
    operator, customer, make_lottery, make_product
):
    sku = make_product(stock=10).skus.get()
    lottery = make_lottery(prizes=[_product_prize(sku, stock=4)])
    customer.api.post(f"/lotteries/{lottery['id']}/draw")
    assert SKU.objects.get(pk=sku.pk).stock == 6
    closed = operator.api.post(f"/admin/lotteries/{lottery['id']}/close")
    assert closed.status_code == 200 and closed.json()["is_active"] is False
    assert SKU.objects.get(pk=sku.pk).stock == 9  # three unawarded units are back
    late = customer.api.post(f"/lotteries/{lottery['id']}/draw")
    assert late.status_code == 409 and late.json()["code"] == "lottery_closed"
