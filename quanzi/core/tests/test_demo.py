"""``quanzi demo`` loads a shop a newcomer can buy from, once."""


def test_demo_loads_once_and_the_shop_sells(db, anon):
    from quanzi.accounts.services import user_login
    from quanzi.core.demo import DEMO_CUSTOMER, DEMO_OPERATOR, demo_load

    assert demo_load() is True
    assert demo_load() is False
    products = anon.get("/products?limit=50").json()["items"]
    assert len(products) >= 12
    assert all(item["cover"].startswith("/static/demo/") for item in products)
    operator, _ = user_login(phone=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1])
    assert operator.is_operator
    customer, token = user_login(phone=DEMO_CUSTOMER[0], password=DEMO_CUSTOMER[1])
    anon.token = token
    address = anon.get("/me/addresses").json()[0]
    sku = anon.get(f"/products/{products[0]['id']}").json()["skus"][0]
    order = anon.post(
        "/orders", {"items": [{"sku_id": sku["id"], "qty": 1}], "address_id": address["id"]}
    )
    assert order.status_code == 201
    pay = anon.post(f"/orders/{order.json()['id']}/pay", {"gateway": "sandbox"}).json()
    assert anon.post(f"/payments/sandbox/{pay['payment_id']}/complete").status_code == 200
    assert anon.get(f"/orders/{order.json()['id']}").json()["status"] == "to_ship"


def test_demo_images_ship_with_the_package():
    from pathlib import Path

    from quanzi.core.demo import PRODUCTS

    static = Path(__file__).resolve().parents[1] / "static" / "demo"
    for image, *_ in PRODUCTS:
        assert (static / f"{image}.jpg").stat().st_size > 5000
