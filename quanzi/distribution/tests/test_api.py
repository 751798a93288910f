"""The distribution API: settings guard, own data only, operator views."""

from __future__ import annotations

from quanzi.core.platform_settings import get_settings
from quanzi.distribution.tests.conftest import settle


def test_three_levels_are_refused_as_a_pyramid(operator):
    for levels in (3, 5):
        response = operator.api.put("/admin/settings", {"distribution": {"levels": levels}})
        assert response.status_code == 422
        assert response.json()["code"] == "pyramid_forbidden"
    assert get_settings().distribution.levels == 2
    ok = operator.api.put("/admin/settings", {"distribution": {"levels": 1}})
    assert ok.status_code == 200 and ok.json()["distribution"]["levels"] == 1


def test_misspelled_or_out_of_range_distribution_settings_are_refused(operator):
    typo = operator.api.put("/admin/settings", {"distribution": {"level2_rate": 500}})
    assert typo.status_code == 422 and typo.json()["code"] == "invalid_setting"
    bad = operator.api.put("/admin/settings", {"distribution": {"detach_rank_level": -1}})
    assert bad.status_code == 422
    gateway = operator.api.put("/admin/settings", {"distribution": {"payout_gateway": "cash"}})
    assert gateway.status_code == 422


def test_commissions_list_is_the_earners_own(people, pay, make_product, operator):
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    order = settle(pay(buyer, [(sku, 2)]))

    mine = mid.api.get("/me/commissions").json()["items"]
    assert [(c["order_id"], c["level"], c["amount"], c["status"]) for c in mine] == [
        (order.pk, 1, 200, "available")
    ]
    assert [c["level"] for c in top.api.get("/me/commissions").json()["items"]] == [2]
    assert buyer.api.get("/me/commissions").json()["items"] == []
    assert top.api.get("/me/commissions?status=frozen").json()["items"] == []
    assert mid.api.get("/me/commissions?status=bogus").status_code == 422

    assert mid.api.get("/admin/commissions").status_code == 403
    everything = operator.api.get(f"/admin/commissions?order_id={order.pk}").json()["items"]
    assert sorted(c["beneficiary_id"] for c in everything) == sorted([top.pk, mid.pk])
    assert mid.api.get("/admin/distributors").status_code == 403


def test_earnings_need_a_login(anon):
    assert anon.get("/me/earnings").status_code == 401
    assert anon.post("/me/withdrawals", {"amount": 100}).status_code == 401


def test_my_distributor_status(people, pay, sku):
    top, mid, buyer = people(3, chain=True)
    body = mid.api.get("/me/distributor").json()
    assert body["qualified"] is True and body["team_size"] == 1 and body["rank"] is None


def test_hot_reads_do_not_grow_with_their_size(
    people, make_user, make_product, anon, django_assert_max_num_queries
):
    from quanzi.accounts.services import referrer_bind
    from quanzi.catalog.models import ProductImage

    keeper = make_user()
    shop = keeper.api.post("/me/shop", {"name": "店"}).json()
    products = [make_product(title=f"货{i}") for i in range(12)]
    for product in products:
        ProductImage.objects.create(product=product, url=f"/media/{product.pk}.jpg")
    keeper.api.post("/me/shop/products", {"product_ids": [p.pk for p in products]})
    with django_assert_max_num_queries(6):
        assert len(anon.get(f"/shops/{shop['id']}").json()["products"]) == 12

    for user in people(10):
        referrer_bind(user=user, referrer=keeper, source="test")
    with django_assert_max_num_queries(8):
        assert keeper.api.get("/me/team").json()["level1_count"] == 10
