"""Shops (S2b2c): a shopkeeper's selection of platform products at unified prices."""

from __future__ import annotations

from django.test import Client

from quanzi.distribution.models import Commission
from quanzi.social.models import ShareConversion


def test_open_a_shop_and_choose_products(make_user, make_product, anon):
    keeper = make_user(nickname="小店主")
    rice = make_product(title="大米", price=1990)
    oil = make_product(title="菜籽油", price=5990)
    hidden = make_product(title="下架", price=100, supply_price=50)
    hidden.is_active = False
    hidden.save()

    created = keeper.api.post("/me/shop", {"name": "小李的店", "slug": "xiaoli"})
    assert created.status_code == 201
    shop = created.json()
    assert shop["products"] == [] and shop["share_token"]

    added = keeper.api.post("/me/shop/products", {"product_ids": [rice.pk, oil.pk, rice.pk]})
    assert added.status_code == 200
    assert {p["id"] for p in added.json()["products"]} == {rice.pk, oil.pk}
    refused = keeper.api.post("/me/shop/products", {"product_ids": [hidden.pk]})
    assert refused.status_code == 422 and refused.json()["code"] == "product_unavailable"

    public = anon.get(f"/shops/{shop['id']}")
    assert public.status_code == 200
    body = public.json()
    assert body["name"] == "小李的店" and body["owner"]["nickname"] == "小店主"
    prices = {p["id"]: p["min_price"] for p in body["products"]}
    assert prices == {rice.pk: 1990, oil.pk: 5990}  # the platform's prices, unchanged

    removed = keeper.api.delete(f"/me/shop/products/{oil.pk}")
    assert [p["id"] for p in removed.json()["products"]] == [rice.pk]
    assert keeper.api.delete(f"/me/shop/products/{oil.pk}").status_code == 404


def test_one_shop_per_person_and_unique_addresses(make_user):
    first, second = make_user(), make_user()
    assert first.api.post("/me/shop", {"name": "一", "slug": "same"}).status_code == 201
    again = first.api.post("/me/shop", {"name": "二"})
    assert again.status_code == 409 and again.json()["code"] == "shop_exists"
    taken = second.api.post("/me/shop", {"name": "三", "slug": "same"})
    assert taken.status_code == 409 and taken.json()["code"] == "shop_slug_taken"
    bad = second.api.post("/me/shop", {"name": "三", "slug": "Not A Slug!"})
    assert bad.status_code == 422


def test_a_closed_shop_is_not_public(make_user, anon):
    keeper = make_user()
    shop = keeper.api.post("/me/shop", {"name": "店"}).json()
    keeper.api.patch("/me/shop", {"is_active": False})
    assert anon.get(f"/shops/{shop['id']}").status_code == 404
    assert anon.get("/shops/999999").status_code == 404


def test_only_distributors_open_shops(make_user, operator, dist_settings):
    dist_settings(qualification="approval")
    keeper = make_user()
    refused = keeper.api.post("/me/shop", {"name": "店"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_distributor"
    keeper.api.post("/me/distributor-application", {})
    operator.api.post(f"/admin/distributors/{keeper.pk}/approve", {})
    assert keeper.api.post("/me/shop", {"name": "店"}).status_code == 201


def test_orders_from_a_shop_are_attributed_to_its_keeper(make_user, make_product, pay):
    keeper, customer = make_user(), make_user()
    product = make_product(price=2000, supply_price=1000)
    shop = keeper.api.post("/me/shop", {"name": "店"}).json()
    keeper.api.post("/me/shop/products", {"product_ids": [product.pk]})

    # The customer opens the shop's link, then buys what the shop page shows.
    visit = Client().get(f"/s/{shop['share_token']}")
    assert visit.status_code == 302 and visit["Location"] == f"/shop/{shop['id']}"
    order = pay(customer, [(product.skus.get(), 2)], share_token=shop["share_token"])

    commission = Commission.objects.get(order=order)
    assert commission.beneficiary_id == keeper.pk and commission.amount == 400
    assert ShareConversion.objects.get(order_id=order.pk).link.target == "shop"
    team = keeper.api.get("/me/team").json()
    assert [(m["user_id"], m["gmv"]) for m in team["level1"]] == [(customer.pk, 4000)]
