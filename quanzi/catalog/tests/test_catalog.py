"""Operator product management and the public catalog."""

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
