"""Parallel draws never push a prize's stock below zero (PostgreSQL, real threads)."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.rewards.models import LotteryDay, LotteryDraw, LotteryPrize

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


def test_parallel_draws_never_over_issue_a_prize(make_user, make_product):
    from quanzi.rewards.lottery import lottery_create, lottery_draw

    sku = make_product(stock=20).skus.get()
    lottery = lottery_create(
        title="转盘",
        cost_points=0,
        free_draws_per_day=5,
        prizes=[
            {
                "name": "电饭煲",
                "kind": "product",
                "weight": 1_000_000,
                "stock": 3,
                "sku_id": sku.pk,
            },
            {"name": "耳机", "kind": "product", "weight": 1_000_000, "stock": 2, "sku_id": sku.pk},
            {"name": "谢谢参与", "kind": "none", "weight": 1},
        ],
    )
    users = [make_user() for _ in range(12)]

    results = race([lambda u=u: lottery_draw(user=u, lottery_id=lottery.pk) for u in users])

    assert all(isinstance(r, LotteryDraw) for r in results), results
    prizes = {p.name: p for p in LotteryPrize.objects.filter(lottery=lottery)}
    assert (prizes["电饭煲"].stock, prizes["电饭煲"].given) == (0, 3)
    assert (prizes["耳机"].stock, prizes["耳机"].given) == (0, 2)
    won = LotteryDraw.objects.filter(lottery=lottery, kind="product")
    assert won.count() == 5
    assert LotteryDraw.objects.filter(lottery=lottery, kind="none").count() == 7


def test_one_user_racing_for_free_draws_gets_only_the_days_allowance(make_user):
    from quanzi.rewards.lottery import lottery_create, lottery_draw

    lottery = lottery_create(
        title="转盘",
        cost_points=0,
        free_draws_per_day=3,
        prizes=[{"name": "谢谢参与", "kind": "none", "weight": 1}],
    )
    user = make_user()

    results = race([lambda: lottery_draw(user=user, lottery_id=lottery.pk)] * 8)

    assert sum(1 for r in results if isinstance(r, LotteryDraw)) == 3
    assert [r for r in results if not isinstance(r, LotteryDraw)] == ["no_draws_left"] * 5
    assert LotteryDay.objects.get(user=user).free_used == 3
