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
