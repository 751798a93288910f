"""The committed OpenAPI schema is the code's schema: a drift fails the suite."""

from pathlib import Path

from quanzi.core.management.commands.openapi_schema import current_schema

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_schema_matches_the_code():
    assert COMMITTED.exists(), (
        "docs/openapi.json is missing: python manage.py openapi_schema --write docs/openapi.json"
    )
    assert COMMITTED.read_text(encoding="utf-8") == current_schema(), (
        "the API changed: review it and run python manage.py openapi_schema --write docs/openapi.json"
    )


def test_contract_paths_exist():
    import json

    paths = json.loads(current_schema())["paths"]
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/me/addresses",
        "/api/v1/admin/settings",
        "/api/v1/admin/products",
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/cancel",
        "/api/v1/orders/{order_id}/confirm-receipt",
        "/api/v1/orders/{order_id}/pay",
        "/api/v1/payments/sandbox/{payment_id}/complete",
        "/api/v1/payments/notify/{gateway}",
        "/api/v1/admin/orders/{order_id}/ship",
        "/api/v1/orders/{order_id}/refunds",
        "/api/v1/admin/refunds/{refund_id}/approve",
    ]:
        assert path in paths, path


def _schema() -> dict:
    import json

    return json.loads(current_schema())


def _body_ref(schema: dict, path: str, method: str = "post") -> str:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return body["$ref"].rsplit("/", 1)[-1]


def test_same_named_schemas_of_two_apps_each_document_their_own_fields():
    schema = _schema()
    components = schema["components"]["schemas"]
    group = _body_ref(schema, "/api/v1/admin/group-campaigns")
    bargain = _body_ref(schema, "/api/v1/admin/bargain-campaigns")
    assert group != bargain
    assert "group_size" in components[group]["properties"]
    assert "floor_price" in components[bargain]["properties"]
    assert "group_size" not in components[bargain]["properties"]


def test_no_two_quanzi_schemas_share_a_component_name():
    from quanzi.core.openapi import ambiguous_names

    components = _schema()["components"]["schemas"]
    for name in ambiguous_names():
        assert name not in components, f"{name} is ambiguous and must be qualified by its app"


def test_every_operation_documents_the_errors_the_request_path_can_give():
    schema = _schema()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert "422" in codes or 422 in codes, (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert {"409", "413"} <= {str(c) for c in codes}, (method, path)
            if operation.get("security"):
                assert "401" in {str(c) for c in codes}, (method, path)
            if "{" in path:
                assert "404" in {str(c) for c in codes}, (method, path)
            for code, answer in operation["responses"].items():
                if int(code) >= 400:
                    ref = answer["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)


def test_rate_limited_endpoints_document_429():
    schema = _schema()
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/coupon-templates/{template_id}/claim",
        "/api/v1/bargains/{bargain_id}/help",
    ]:
        assert "429" in {str(c) for c in schema["paths"][path]["post"]["responses"]}, path


def test_a_create_links_to_the_operations_on_what_it_created():
    created = _schema()["paths"]["/api/v1/orders"]["post"]["responses"]["201"]
    targets = {
        link["operationId"]: link["parameters"] for link in created.get("links", {}).values()
    }
    assert targets["quanzi_orders_api_order_detail"] == {"order_id": "$response.body#/id"}
    assert targets["quanzi_payments_api_order_pay"] == {"order_id": "$response.body#/id"}
    bargain = _schema()["paths"]["/api/v1/bargains"]["post"]["responses"]["201"]["links"]
    assert {"bargain_id": "$response.body#/bargain_id"} in [
        link["parameters"] for link in bargain.values()
    ]
