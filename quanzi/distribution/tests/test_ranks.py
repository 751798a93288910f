"""Ranks upgrade on team size or sales, multiply commissions, and detach (剥离)."""

from __future__ import annotations

from quanzi.accounts.services import referrer_bind
from quanzi.distribution.models import Commission, DistributorProfile
from quanzi.distribution.tests.conftest import settle


def _ranks(operator):
    shopkeeper = operator.api.post(
        "/admin/distributor-ranks",
        {"name": "店主", "level": 1, "min_team": 2, "multiplier_bp": 12_000},
    )
    manager = operator.api.post(
        "/admin/distributor-ranks",
        {"name": "店长", "level": 2, "min_sales": 5_000, "multiplier_bp": 15_000},
    )
    assert shopkeeper.status_code == manager.status_code == 201
    return shopkeeper.json(), manager.json()


def _rank_of(user):
    profile = DistributorProfile.objects.filter(user=user).select_related("rank").first()
    return profile.rank.name if profile and profile.rank else None


def test_rank_table_is_for_operators(operator, make_user):
    _ranks(operator)
    user = make_user()
    assert user.api.post("/admin/distributor-ranks", {"name": "x", "level": 3}).status_code == 403
    same_level = operator.api.post("/admin/distributor-ranks", {"name": "重复", "level": 2})
    assert same_level.status_code == 409
    too_big = operator.api.post(
        "/admin/distributor-ranks", {"name": "x", "level": 3, "multiplier_bp": 90_000}
    )
    assert too_big.status_code == 422
    assert [r["level"] for r in operator.api.get("/admin/distributor-ranks").json()] == [1, 2]


def test_team_size_upgrades_and_the_multiplier_applies(operator, people, pay, make_product):
    _ranks(operator)
    mid, first, second = people(3)
    sku = make_product(price=1000, supply_price=400).skus.get()
    referrer_bind(user=first, referrer=mid, source="test")
    assert _rank_of(mid) is None
    assert Commission.objects.get(order=pay(first, [(sku, 1)])).amount == 100

    # A second direct downline arrives through mid's share link.
    from quanzi.social.services import share_create, share_open

    link = share_create(sharer=mid, target="product", target_id=sku.product_id)
    share_open(token=link.token, visitor=second)

    assert _rank_of(mid) == "店主"
    assert Commission.objects.get(order=pay(first, [(sku, 1)])).amount == 120  # × 1.2


def test_sales_upgrade_detaches_from_the_upline_upline(
    operator, people, pay, make_product, dist_settings
):
    _ranks(operator)
    dist_settings(detach_rank_level=2)
    g, u, d, c = people(4, chain=True)  # g ← u ← d ← c
    sku = make_product(price=5_000, supply_price=2_000).skus.get()

    before = pay(d, [(sku, 1)])
    assert sorted(
        Commission.objects.filter(order=before).values_list("level", "beneficiary_id")
    ) == [(1, u.pk), (2, g.pk)]
    assert [m["user_id"] for m in g.api.get("/me/team").json()["level2"]] == [d.pk]

    settle(pay(c, [(sku, 1)]))  # d brought 5000 of settled sales: 店长, detached
    assert _rank_of(d) == "店长"
    assert DistributorProfile.objects.get(user=d).detached_at is not None

    after = pay(d, [(sku, 1)])
    assert sorted(
        Commission.objects.filter(order=after).values_list("level", "beneficiary_id")
    ) == [(1, u.pk)]  # g no longer earns level 2 on d
    assert g.api.get("/me/team").json()["level2"] == []
    # d's own downline is unchanged: d level 1 (with its ×1.5), u level 2.
    downline = pay(c, [(sku, 1)])
    assert sorted(
        Commission.objects.filter(order=downline).values_list("level", "beneficiary_id", "amount")
    ) == [(1, d.pk, 750), (2, u.pk, 250)]


def test_ranks_only_go_up_when_refunds_lower_sales(operator, people, pay, make_product):
    from quanzi.distribution.tests.conftest import refund

    _ranks(operator)
    u, d, c = people(3, chain=True)
    sku = make_product(price=5_000, supply_price=2_000).skus.get()
    order = settle(pay(c, [(sku, 1)]))
    assert _rank_of(d) == "店长"

    refund(order, operator)

    assert DistributorProfile.objects.get(user=d).sales == 0
    assert _rank_of(d) == "店长"
