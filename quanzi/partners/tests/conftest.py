"""Partner fixtures: a bank with an HMAC key and two card levels, a product with
channel prices per level, and a helper that signs tokens as the partner would."""

from __future__ import annotations

import secrets
import time

import pytest

SECRET = "bank-shared-secret-0123456789-abcdefghij"


@pytest.fixture
def bank(db):
    from quanzi.partners import services

    partner = services.partner_create(name="某某银行", code="bank")
    services.key_rotate(partner_id=partner.pk, kind="hmac", secret=SECRET)
    partner.gold = services.level_set(partner_id=partner.pk, code="gold", name="金卡", rank=1)
    partner.platinum = services.level_set(
        partner_id=partner.pk, code="platinum", name="白金卡", rank=2
    )
    return partner


@pytest.fixture
def priced(bank, make_product):
    """Rice: retail 1990, gold 1800, platinum 1600. Tea: platinum-only 15000 (retail 19800)."""
    from quanzi.partners import services

    rice = make_product(price=1990, supply_price=1000, stock=50).skus.get()
    tea = make_product(price=19800, supply_price=9800, stock=20, title="大红袍").skus.get()
    services.price_set(partner_id=bank.pk, level_id=bank.gold.pk, sku_id=rice.pk, price=1800)
    services.price_set(partner_id=bank.pk, level_id=bank.platinum.pk, sku_id=rice.pk, price=1600)
    services.price_set(partner_id=bank.pk, level_id=bank.platinum.pk, sku_id=tea.pk, price=15000)
    return {"rice": rice, "tea": tea}


def claims(**over) -> dict:
    now = int(time.time())
    payload = {
        "partner": "bank",
        "uid": "u-1001",
        "level": "gold",
        "iat": now,
        "exp": now + 300,
        "nonce": secrets.token_urlsafe(12),
    }
    payload.update(over)
    return payload


@pytest.fixture
def token():
    from quanzi.partners.signing import token_make

    def make(kind: str = "hmac", material: str = SECRET, **over) -> str:
        return token_make(kind, material, claims(**over))

    return make


def arrive(api, token: str, code: str = "bank"):
    return api.post(f"/partners/{code}/arrivals", {"token": token})


from quanzi.storefront.tests.browser import browser, new_phone  # noqa: E402, F401 - fixtures
