"""Shared fixtures. Every test that touches the database ends with ``quanzi ledger check``:
a scenario that leaves the books wrong fails even if its own assertions pass."""

from __future__ import annotations

import itertools
import json
import os

import pytest
from django.test import Client

_phones = itertools.count(13_000_000_001)

# The demo's weeks of simulated history are tested on their own (quanzi/analytics); the
# other demo tests load the shop without them.
os.environ.setdefault("QUANZI_DEMO_DAYS", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "ledger_dirty: the test breaks the ledger on purpose")
    config.addinivalue_line(
        "markers", "api_contract_exempt: the test's API answers may break the OpenAPI contract"
    )


@pytest.fixture(autouse=True)
def _api_answers_keep_the_contract(request, monkeypatch):
    """Every /api/v1 answer a test receives is documented by docs/openapi.json
    (``quanzi.core.api_contract``): its status code for the operation, its body's shape."""
    if request.node.get_closest_marker("api_contract_exempt"):
        yield
        return
    from django.test.client import Client

    from quanzi.core.api_contract import check_response

    original = Client.request

    def request_and_check(self, **environ):
        response = original(self, **environ)
        check_response(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), response)
        return response

    monkeypatch.setattr(Client, "request", request_and_check)
    yield


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests create many users; the real hasher's deliberate slowness buys them nothing."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    from quanzi.core.platform_settings import settings_cache_clear
    from quanzi.ledger.accounts import clear_cache
    from quanzi.payments.gateways import reset_gateways

    clear_cache()
    reset_gateways()
    cache.clear()  # rate-limit counters and other cached values start empty in every test
    # The process's copy of the settings too: the last test's database was rolled back
    # under it, which no running server ever sees.
    settings_cache_clear()
    yield
    clear_cache()
    settings_cache_clear()


@pytest.fixture(autouse=True)
def _commit_hooks_like_production(monkeypatch):
    """Run ``on_commit`` work when the outermost real transaction ends, as in production.

    A test's own wrapping transaction never commits, so without this the work that
    services schedule after commit (refund execution…) would never run in tests.
    """
    from django.db import transaction

    original_exit = transaction.Atomic.__exit__

    def exit_and_run_hooks(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = transaction.get_connection(self.using)
        if (
            exc_type is None
            and not self._from_testcase
            and connection.in_atomic_block
            and all(block._from_testcase for block in connection.atomic_blocks)
            and not connection.needs_rollback
        ):
            pending = list(connection.run_on_commit)
            connection.run_on_commit.clear()
            for _savepoints, func, _robust in pending:
                func()
        return result

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_and_run_hooks)


@pytest.fixture(autouse=True)
def _ledger_green(request):
    uses_db = bool({"db", "transactional_db"} & set(request.fixturenames)) or bool(
        request.node.get_closest_marker("django_db")
    )
    if uses_db:
        # Set the database up before this fixture finishes its setup, so that it is
        # still there when this fixture's teardown runs the check.
        transactional = "transactional_db" in request.fixturenames or bool(
            (marker := request.node.get_closest_marker("django_db"))
            and marker.kwargs.get("transaction")
        )
        request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    if uses_db and not request.node.get_closest_marker("ledger_dirty"):
        from quanzi.ledger.checks import run_checks

        problems, _ = run_checks()
        assert not problems, "ledger check failed after the test:\n" + "\n".join(problems)


def next_phone() -> str:
    return str(next(_phones))


class Api:
    """A JSON client for /api/v1 carrying a bearer token."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict | None) -> dict:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        url = path if path.startswith("/") and path.startswith("/api/") else f"/api/v1{path}"
        kwargs = {"headers": self._headers(headers)}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("post", path, body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.call("put", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("patch", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("delete", path, **kw)


@pytest.fixture
def anon(db):
    return Api()


@pytest.fixture
def make_user(db):
    from quanzi.accounts.services import token_issue, user_create

    def make(*, roles: tuple[str, ...] = (), nickname: str = "", phone: str | None = None):
        user = user_create(
            phone=phone or next_phone(), password="secret123", nickname=nickname, roles=roles
        )
        user.api = Api(token_issue(user=user))
        return user

    return make


@pytest.fixture
def operator(make_user):
    return make_user(roles=("operator",), nickname="运营")


@pytest.fixture
def customer(make_user):
    return make_user(nickname="小红")


@pytest.fixture
def make_address(db):
    from quanzi.accounts.services import address_create

    def make(user):
        # Each person its own phone and place: risk control relates accounts that share one.
        return address_create(
            user=user,
            data={
                "name": "张三",
                "phone": f"139{user.pk:08d}",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": f"文三路 {user.pk} 号",
            },
        )

    return make


@pytest.fixture
def make_product(db):
    from quanzi.catalog.services import product_create

    def make(
        *,
        price: int = 1990,
        supply_price: int = 1000,
        stock: int = 100,
        member_price=None,
        title="东北大米 5kg",
        skus=None,
        **extra,
    ):
        return product_create(
            title=title,
            skus=skus
            or [
                {
                    "name": "默认",
                    "price": price,
                    "supply_price": supply_price,
                    "stock": stock,
                    "member_price": member_price,
                }
            ],
            **extra,
        )

    return make


@pytest.fixture
def sku(make_product):
    return make_product().skus.get()


@pytest.fixture
def buy(make_address):
    """Place and pay an order through the API; returns the order JSON after payment."""

    def run(user, sku, qty: int = 1, pay: bool = True, **extra):
        address = make_address(user)
        response = user.api.post(
            "/orders",
            {"items": [{"sku_id": sku.pk, "qty": qty}], "address_id": address.pk, **extra},
        )
        assert response.status_code == 201, response.content
        order = response.json()
        if pay:
            payment = user.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
            assert payment.status_code == 200, payment.content
            done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
            assert done.status_code == 200, done.content
            order = user.api.get(f"/orders/{order['id']}").json()
        return order

    return run
