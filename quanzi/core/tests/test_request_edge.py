"""The request path refuses what cannot be stored or parsed, in the API's error shape."""

from __future__ import annotations

import pytest
from django.test import Client

ERROR_KEYS = {"code", "message", "detail"}


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    return body


# --- NUL characters --------------------------------------------------------------------


def test_a_nul_in_a_query_parameter_is_422_even_without_logging_in(anon):
    response = anon.get("/products?q=rice%00")
    _error(response, 422, "invalid_text")


def test_a_nul_in_the_path_is_422(anon):
    _error(anon.get("/products/1%00"), 422, "invalid_text")


def test_a_nul_in_a_json_string_is_422_and_nothing_is_stored(customer):
    response = customer.api.post(
        "/me/addresses",
        {
            "name": "张\u0000三",
            "phone": "13900000000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )
    body = _error(response, 422, "invalid_text")
    assert body["detail"] == {"where": "body"}
    from quanzi.accounts.models import Address

    assert not Address.objects.filter(user=customer).exists()


def test_a_nul_in_a_json_key_is_422(anon):
    response = anon.post("/auth/login", {"phone\u0000": "1", "password": "x"})
    _error(response, 422, "invalid_text")


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(anon):
    # The JSON string "\\u0000" is a backslash and five characters, not a NUL.
    response = anon.client.post(
        "/api/v1/auth/login",
        data='{"phone": "\\\\u0000", "password": "whatever"}',
        content_type="application/json",
    )
    assert response.status_code != 422 or response.json()["code"] != "invalid_text"


def test_a_nul_in_a_header_is_422(anon):
    response = anon.get("/products", headers={"X-Anything": "a\x00b"})
    _error(response, 422, "invalid_text")


def test_a_nul_in_a_storefront_form_is_refused_before_the_view():
    response = Client().post(
        "/login/", data="phone=1%00&password=x", content_type=("application/x-www-form-urlencoded")
    )
    _error(response, 422, "invalid_text")


# --- body size -------------------------------------------------------------------------


def test_a_body_above_the_upload_limit_is_413_not_500(anon, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = anon.post("/auth/login", {"phone": "1" * 2000, "password": "x"})
    body = _error(response, 413, "payload_too_large")
    assert body["detail"] == {"max_bytes": 1000}


def test_a_body_within_the_limit_is_served(anon, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = anon.post("/auth/login", {"phone": "13900000000", "password": "x"})
    assert response.status_code in {401, 422}
    assert response.json()["code"] != "payload_too_large"


# --- bodies that are not JSON objects --------------------------------------------------


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"text"', "3", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_422(customer, raw):
    response = customer.api.client.post(
        "/api/v1/me/sign-in",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {customer.api.token}"},
    )
    _error(response, 422, "body_not_object")


def test_a_body_that_is_not_json_is_400_in_the_error_shape(anon):
    response = anon.client.post(
        "/api/v1/auth/login", data="{not json", content_type="application/json"
    )
    _error(response, 400, "bad_request")


def test_a_deeply_nested_body_is_a_4xx_not_a_500(anon):
    raw = "[" * 100_000 + "]" * 100_000
    response = anon.client.post("/api/v1/auth/login", data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert set(response.json()) == ERROR_KEYS


# --- strict types ----------------------------------------------------------------------


@pytest.mark.parametrize("qty", [True, 1.0, 2.5, "1", " 1", "1 ", None, [1]])
def test_quantities_take_integers_only(customer, sku, make_address, qty):
    address = make_address(customer)
    response = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": qty}], "address_id": address.pk}
    )
    body = _error(response, 422, "validation_error")
    assert ["body", "payload", "items", "0", "qty"] in [e["loc"] for e in body["detail"]["errors"]]


@pytest.mark.parametrize("price", [True, 1990.0, "1990", "1990 "])
def test_prices_take_integers_only(operator, price):
    response = operator.api.post(
        "/admin/products",
        {"title": "米", "skus": [{"name": "默认", "price": price, "supply_price": 1000}]},
    )
    _error(response, 422, "validation_error")


def test_an_integer_price_is_still_accepted(operator):
    response = operator.api.post(
        "/admin/products",
        {"title": "米", "skus": [{"name": "默认", "price": 1990, "supply_price": 1000}]},
    )
    assert response.status_code == 201, response.content


def test_unknown_fields_are_ignored(operator):
    response = operator.api.post("/admin/categories", {"name": "粮油", "colour": "red"})
    assert response.status_code == 201, response.content
    assert "colour" not in response.json()


# --- database errors become 4xx answers ------------------------------------------------


def test_a_category_under_a_missing_parent_is_422_and_not_stored(operator):
    from quanzi.catalog.models import Category

    response = operator.api.post("/admin/categories", {"name": "大米", "parent_id": 987654})
    body = _error(response, 422, "invalid_parent")
    assert body["detail"] == {"field": "parent_id"}
    assert not Category.objects.filter(name="大米").exists()


@pytest.mark.parametrize("parent_id", [0, -1, 2**63])
def test_ids_out_of_range_are_refused_at_the_door(operator, parent_id):
    response = operator.api.post("/admin/categories", {"name": "大米", "parent_id": parent_id})
    _error(response, 422, "validation_error")


def test_a_path_id_beyond_the_database_range_is_422_not_500(anon):
    response = anon.get(f"/products/{2**70}")
    assert response.status_code in {404, 422}
    assert set(response.json()) == ERROR_KEYS


def test_a_supplier_for_a_missing_user_is_422(operator):
    response = operator.api.post("/admin/suppliers", {"name": "农场", "user_id": 987654})
    _error(response, 422, "invalid_user")


def _database_errors():
    from django.core.exceptions import ValidationError
    from django.db import DataError, IntegrityError

    return [
        (IntegrityError("UNIQUE constraint failed: catalog_category.name"), 409, "conflict"),
        (IntegrityError("FOREIGN KEY constraint failed"), 422, "invalid_reference"),
        (DataError("integer out of range"), 422, "out_of_range"),
        (ValidationError("not a good name"), 422, "validation_error"),
    ]


@pytest.mark.parametrize("case", range(4), ids=["unique", "foreign_key", "data", "validation"])
def test_errors_from_the_database_and_django_become_the_error_shape(case, operator, monkeypatch):
    """A unique clash is a 409, a dangling reference or a value out of range a 422, and
    Django's own ValidationError a 422 that keeps its message."""
    from quanzi.catalog import services

    error, status, code = _database_errors()[case]

    def failing(**kwargs):
        raise error

    monkeypatch.setattr(services, "category_create", failing)
    body = _error(operator.api.post("/admin/categories", {"name": "x"}), status, code)
    if code == "validation_error":
        assert body["detail"]["errors"][0]["msg"] == "not a good name"


# --- authentication: 401, not a CSRF 403 -----------------------------------------------


def test_an_unsafe_call_without_credentials_is_401_not_csrf_403(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/me/sign-in", data="{}", content_type="application/json")
    _error(response, 401, "unauthorized")


def test_an_unsafe_call_with_a_bad_token_is_401(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/me/sign-in",
        data="{}",
        content_type="application/json",
        headers={"Authorization": "Bearer not-a-token"},
    )
    _error(response, 401, "unauthorized")


def test_a_stale_session_cookie_without_a_user_is_401(db):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "no-such-session"
    response = client.post("/api/v1/me/sign-in", data="{}", content_type="application/json")
    _error(response, 401, "unauthorized")


def test_a_logged_in_session_still_needs_its_csrf_token(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    refused = client.post("/api/v1/me/sign-in", data="{}", content_type="application/json")
    _error(refused, 403, "csrf_failed")
    client.get("/")  # the storefront hands out the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/me/sign-in",
        data="{}",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code in {200, 201}, accepted.content


def test_a_bearer_token_needs_no_csrf_token(customer):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/me/sign-in",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {customer.api.token}"},
    )
    assert response.status_code in {200, 201}, response.content


def test_an_unknown_api_address_is_a_json_404_not_the_storefront_page(anon):
    response = anon.get("/no-such-endpoint")
    _error(response, 404, "not_found")
    assert response["Content-Type"] == "application/json"


# --- references to rows that do not exist, on operator endpoints -------------------------

MISSING = 987_654
DANGLING = [
    (
        "/admin/membership-plans",
        {"name": "月卡", "price": 1000, "duration_days": 30, "monthly_coupon_template_id": MISSING},
        "invalid_coupon_template",
    ),
    (
        "/admin/lotteries",
        {
            "title": "抽奖",
            "free_draws_per_day": 1,
            "prizes": [
                {
                    "name": "券",
                    "kind": "coupon",
                    "weight": 1,
                    "stock": 1,
                    "coupon_template_id": MISSING,
                }
            ],
        },
        "invalid_coupon_template",
    ),
    (
        "/admin/reward-campaigns",
        {
            "kind": "share",
            "trigger": "first_order",
            "needed": 1,
            "reward": {"coupon_template_id": MISSING},
        },
        "invalid_coupon_template",
    ),
    (
        "/admin/coupon-templates",
        {
            "name": "券",
            "kind": "amount_off",
            "amount": 100,
            "threshold": 0,
            "scope": "products",
            "scope_ids": [MISSING],
            "valid_days": 3,
            "total": 10,
            "per_user_limit": 1,
        },
        "invalid_reference",
    ),
    (
        "/admin/products",
        {
            "title": "米",
            "category": MISSING,
            "skus": [{"name": "a", "price": 100, "supply_price": 50}],
        },
        "invalid_category",
    ),
    (
        "/admin/bargain-campaigns",
        {
            "sku_id": MISSING,
            "start_price": 1000,
            "floor_price": 100,
            "helpers_min": 1,
            "helpers_max": 3,
            "ttl_seconds": 3600,
            "per_user_limit": 1,
            "stock": 1,
        },
        "sku_unavailable",
    ),
]


CREATES = {
    "/admin/membership-plans": "membership.MembershipPlan",
    "/admin/lotteries": "rewards.Lottery",
    "/admin/reward-campaigns": "rewards.RewardCampaign",
    "/admin/coupon-templates": "marketing.CouponTemplate",
    "/admin/products": "catalog.Product",
    "/admin/bargain-campaigns": "bargain.BargainCampaign",
}


@pytest.mark.parametrize("path,body,code", DANGLING, ids=[case[0] for case in DANGLING])
def test_an_operator_body_naming_a_missing_row_is_422_and_nothing_is_created(
    operator, path, body, code
):
    from django.apps import apps

    model = apps.get_model(CREATES[path])
    before = model.objects.count()
    _error(operator.api.post(path, body), 422, code)
    assert model.objects.count() == before


@pytest.mark.api_contract_exempt  # a method the schema does not list for this path
def test_a_method_an_endpoint_does_not_take_is_405_in_the_error_shape(operator):
    response = operator.api.get("/admin/products")
    body = _error(response, 405, "method_not_allowed")
    assert "POST" in body["detail"]["allowed"]
    assert "POST" in response["Allow"]
