"""Operator product management and the public catalog."""

from quanzi.catalog.models import SKU

PRODUCT = {
    "title": "阿克苏冰糖心苹果",
    "description": "脆甜",
    "category": "生鲜水果",
    "images": ["/static/demo/apple.jpg"],
    "skus": [
        {"name": "5斤", "price": 3990, "supply_price": 2400, "stock": 10, "member_price": 3590}
    ],
    "commission": {"level1_rate_bp": 1200},
}


def test_operator_creates_and_edits_a_product(operator, anon):
    created = operator.api.post("/admin/products", PRODUCT)
    assert created.status_code == 201, created.content
    product = created.json()
    sku = product["skus"][0]
    assert sku["price"] == 3990 and sku["member_price"] == 3590 and sku["stock"] == 10
    public = anon.get(f"/products/{product['id']}").json()
    assert public["title"] == "阿克苏冰糖心苹果" and public["category"] == "生鲜水果"
    assert public["skus"][0]["price"] == 3990 and "supply_price" not in public["skus"][0]
    assert public["open_groups"] == []
    patch = {
        "title": "冰糖心苹果",
        "skus": [
            {"id": sku["id"], "name": "5斤", "price": 3690, "supply_price": 2400, "stock": 20}
        ],
    }
    edited = operator.api.patch(f"/admin/products/{product['id']}", patch)
    assert edited.status_code == 200
    assert anon.get(f"/products/{product['id']}").json()["skus"][0]["price"] == 3690
    hidden = operator.api.patch(f"/admin/products/{product['id']}", {"is_active": False})
    assert hidden.status_code == 200
    assert anon.get(f"/products/{product['id']}").status_code == 404


def test_bad_products_are_refused_with_codes(operator, customer):
    assert customer.api.post("/admin/products", PRODUCT).status_code == 403
    cases = [
        ({**PRODUCT, "title": ""}, "invalid_title"),
        ({**PRODUCT, "skus": []}, "validation_error"),
        ({**PRODUCT, "skus": [{"name": "x", "price": 0, "supply_price": 0}]}, "validation_error"),
        ({**PRODUCT, "skus": [{"name": "x", "price": 100, "supply_price": 200}]}, "invalid_price"),
        (
            {
                **PRODUCT,
                "skus": [{"name": "x", "price": 100, "supply_price": 50, "member_price": 200}],
            },
            "invalid_price",
        ),
        ({**PRODUCT, "supplier_id": 424242}, "invalid_supplier"),
        (
            {**PRODUCT, "skus": [{"name": "x", "price": 100, "supply_price": 50, "stock": -1}]},
            "validation_error",
        ),
    ]
    for body, code in cases:
        response = operator.api.post("/admin/products", body)
        assert response.status_code == 422, (body, response.content)
        assert response.json()["code"] == code
    assert operator.api.patch("/admin/products/999999", {"title": "x"}).status_code == 404


def test_public_list_pages_with_a_cursor(anon, make_product):
    ids = [make_product(title=f"商品{i}").pk for i in range(5)]
    seen = []
    cursor = None
    while True:
        path = "/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = anon.get(path).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    assert anon.get("/products?q=商品3").json()["items"][0]["title"] == "商品3"


def test_product_list_query_count_does_not_grow(anon, make_product, django_assert_max_num_queries):
    for i in range(15):
        make_product(title=f"商品{i}")
    with django_assert_max_num_queries(3):
        response = anon.get("/products?limit=15")
    assert len(response.json()["items"]) == 15


def test_an_edit_never_undoes_sales_made_meanwhile(operator, customer, buy):
    """The editor sends the stock it saw (``stock_expected``): left alone, sales made
    meanwhile stand; changed after units sold, 409 with the stock as it is now, and
    nothing of the edit is saved."""
    product = operator.api.post("/admin/products", PRODUCT).json()
    sku = product["skus"][0]
    seen = sku["stock"]  # 10, on the operator's screen
    buy(customer, SKU.objects.get(pk=sku["id"]), qty=3)  # meanwhile: 7 left

    def edit(stock, *, title="冰糖心苹果", price=3690):
        line = {"id": sku["id"], "name": "5斤", "price": price, "supply_price": 2400}
        line.update({"stock": stock, "stock_expected": seen})
        return operator.api.patch(
            f"/admin/products/{product['id']}", {"title": title, "skus": [line]}
        )

    changed = edit(50, title="改了标题")
    assert changed.status_code == 409
    assert changed.json()["code"] == "stock_changed"
    assert (
        changed.json()["detail"]["stock"] == 7 and changed.json()["detail"]["sku_id"] == sku["id"]
    )
    after = operator.api.get(f"/admin/products/{product['id']}").json()
    assert after["title"] == PRODUCT["title"] and after["skus"][0]["stock"] == 7

    kept = edit(seen)  # the price changes; the stock field was left as it was
    assert kept.status_code == 200
    assert kept.json()["skus"][0]["price"] == 3690 and kept.json()["skus"][0]["stock"] == 7

    seen = 7
    restocked = edit(50)  # seen the current figure: the new one is written
    assert restocked.status_code == 200 and restocked.json()["skus"][0]["stock"] == 50
