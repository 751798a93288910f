"""Fixtures for pre-sales: a product, voters, pre-sales made through the operator's API,
and a ``shop`` that orders and pays pre-sale orders like a client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.storefront.tests.browser import browser, new_phone  # noqa: F401 - fixtures


def ledger_green() -> None:
    """``quanzi ledger check`` as the operator runs it."""
    from quanzi.cli import main

    assert main(["ledger", "check"]) == 0


@pytest.fixture
def phone_sku(make_product):
    return make_product(
        title="共创保温杯 雾蓝色", price=12900, supply_price=5000, stock=50
    ).skus.get()


def _iso(dt):
    return dt.isoformat() if dt is not None else None


@pytest.fixture
def make_presale(operator, phone_sku):
    """Create a pre-sale through ``POST /admin/presale/sales``; times in seconds from now."""

    def make(mode="deposit", *, sku=None, starts_in=-60, **fields):
        now = timezone.now()
        body = {
            "mode": mode,
            "sku_id": (sku or phone_sku).pk,
            "price": fields.pop("price", 9900),
            "starts_at": _iso(now + timedelta(seconds=starts_in)),
        }
        if mode == "deposit":
            body.update(
                deposit=fields.pop("deposit", 1000),
                balance_starts_at=_iso(now + timedelta(seconds=fields.pop("balance_in", 3600))),
                balance_ends_at=_iso(now + timedelta(seconds=fields.pop("balance_ends_in", 7200))),
            )
        else:
            body.update(
                threshold_units=fields.pop("threshold", 3),
                deadline=_iso(now + timedelta(seconds=fields.pop("deadline_in", 3600))),
            )
        if "early_in" in fields:
            body["early_starts_at"] = _iso(now + timedelta(seconds=fields.pop("early_in")))
        body.update(fields)
        answer = operator.api.post("/admin/presale/sales", body)
        assert answer.status_code == 201, answer.content
        return answer.json()

    return make


@pytest.fixture
def shop(make_address):
    """Order a pre-sale phase through the API and pay it at the sandbox."""

    def order(user, presale_id, phase, *, pay=True, expect=201, **body):
        if phase != "deposit" and "address_id" not in body:
            body["address_id"] = make_address(user).pk
        answer = user.api.post(f"/presale/sales/{presale_id}/orders", {"phase": phase, **body})
        assert answer.status_code == expect, answer.content
        if expect != 201:
            return answer.json()
        placed = answer.json()
        if pay and placed["status"] == "pending_payment":
            payment = user.api.post(f"/orders/{placed['order_id']}/pay", {"gateway": "sandbox"})
            assert payment.status_code == 200, payment.content
            done = user.api.post(f"/payments/sandbox/{payment.json()['payment_id']}/complete")
            assert done.status_code == 200, done.content
        placed["order"] = user.api.get(f"/orders/{placed['order_id']}").json()
        return placed

    return order


def move(presale_id: int, **seconds_from_now) -> None:
    """Move a pre-sale's times (``balance_starts_at=-10`` …) relative to now."""
    from quanzi.presale.models import Presale

    now = timezone.now()
    Presale.objects.filter(pk=presale_id).update(
        **{k: now + timedelta(seconds=v) for k, v in seconds_from_now.items()}
    )
