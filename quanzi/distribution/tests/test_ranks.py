"""Ranks upgrade on the distributor's own sales only (never on head count), multiply
commissions, and detach (剥离)."""

from __future__ import annotations

from quanzi.distribution.models import Commission, DistributorProfile
from quanzi.distribution.tests.conftest import settle


def _ranks(operator):
    shopkeeper = operator.api.post(
        "/admin/distributor-ranks",
        {"name": "店主", "level": 1, "min_sales": 1_000, "multiplier_bp": 12_000},
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


def test_a_rank_on_head_count_is_refused(operator):
    """Pay that grows with the number of people one brings in is pyramid selling
    (以发展人员数量计酬): a rank may depend on the distributor's own sales only."""
    refused = operator.api.post(
        "/admin/distributor-ranks",
        {"name": "团长", "level": 1, "min_team": 10, "multiplier_bp": 50_000},
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "pyramid_forbidden"
    assert refused.json()["detail"] == {"field": "min_team"}
    assert operator.api.get("/admin/distributor-ranks").json() == []

    rank = operator.api.post("/admin/distributor-ranks", {"name": "店主", "level": 1}).json()
    assert "min_team" not in rank
    patched = operator.api.patch(f"/admin/distributor-ranks/{rank['id']}", {"min_team": 3})
    assert patched.status_code == 422 and patched.json()["code"] == "pyramid_forbidden"


def test_a_big_team_without_sales_reaches_no_rank(operator, people, pay, make_product):
    _ranks(operator)
    mid, *downlines = people(6)
    sku = make_product(price=1000, supply_price=400).skus.get()
    from quanzi.social.services import share_create, share_open

    link = share_create(sharer=mid, target="product", target_id=sku.product_id)
    for downline in downlines:
        share_open(token=link.token, visitor=downline)
    assert _rank_of(mid) is None  # five direct downlines, no sales: no rank

    from quanzi.distribution.services import ranks_evaluate_all

    ranks_evaluate_all()
    assert _rank_of(mid) is None
    assert Commission.objects.get(order=pay(downlines[0], [(sku, 1)])).amount == 100  # × 1


def test_own_sales_upgrade_and_the_multiplier_applies(operator, people, pay, make_product):
    _ranks(operator)
    mid, first = people(2, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    assert Commission.objects.get(order=settle(pay(first, [(sku, 1)]))).amount == 100

    assert _rank_of(mid) == "店主"  # 1000 of settled sales brought in
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
