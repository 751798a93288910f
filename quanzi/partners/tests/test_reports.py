"""Reports per partner and the reconciliation CSV equal the orders; the ledger stays
green after a partner order and its refund."""

from __future__ import annotations

import csv
import io
import secrets
import time

import pytest
from django.test import Client

from conftest import Api
from quanzi.ledger.checks import run_checks
from quanzi.orders.models import Order
from quanzi.partners.signing import request_headers
from quanzi.partners.tests.conftest import SECRET, arrive
from quanzi.partners.tests.test_channel import buy

pytestmark = pytest.mark.django_db


def pay(user, order_id: int) -> None:
    from quanzi.payments.services import payment_create, sandbox_complete

    payment = payment_create(order_id=order_id, user=user, gateway="sandbox")
    sandbox_complete(payment_id=payment.pk, user=user)


@pytest.fixture
def sales(bank, priced, token, make_address, operator):
    """Three partner users: one pays two rice (refunded in full), one pays a tea, one
    leaves an order unpaid; a stranger's normal order is not the partner's."""
    from quanzi.accounts.models import User
    from quanzi.orders.refunds import refund_approve, refund_request

    people = []
    for uid, level in (("a", "gold"), ("b", "platinum"), ("c", "gold")):
        body = arrive(Api(), token(uid=uid, level=level)).json()
        user = User.objects.get(pk=body["user_id"])
        user.api, user.address = Api(body["token"]), make_address(user)
        people.append(user)
    a, b, c = people
    first = buy(a, priced["rice"], qty=2).json()["id"]
    pay(a, first)
    second = buy(b, priced["tea"]).json()["id"]
    pay(b, second)
    unpaid = buy(c, priced["rice"]).json()["id"]
    refund = refund_request(order_id=first, user=a, lines=None, reason="不要了")
    refund_approve(refund_id=refund.pk, operator=operator)
    return {"paid": [first, second], "unpaid": unpaid, "refunded": first}


def test_the_report_counts_what_the_orders_hold(bank, sales, operator):
    orders = Order.objects.filter(pk__in=[*sales["paid"], sales["unpaid"]])
    first = Order.objects.get(pk=sales["refunded"])
    assert first.status == "refunded" and first.refunded_amount == first.payable > 0
    answer = operator.api.get(f"/admin/partners/{bank.pk}/report")
    assert answer.status_code == 200
    totals = answer.json()["totals"]
    paid = [o for o in orders if o.paid_at is not None]
    assert totals == {
        "new_users": 3,
        "buyers": 3,
        "orders": 3,
        "paid_orders": 2,
        "gmv": sum(o.payable for o in paid),
        "refunds": first.payable,
    }
    today = [d for d in answer.json()["days"] if d["orders"]]
    assert len(today) == 1 and today[0]["gmv"] == totals["gmv"]
    assert run_checks()[0] == []


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_reconciles_with_the_orders_for_the_operator_and_the_partner(bank, sales, operator):
    from quanzi.orders.numbers import order_number

    mine = operator.api.get(f"/admin/partners/{bank.pk}/reconciliation")
    assert mine.status_code == 200 and mine["Content-Type"].startswith("text/csv")
    rows = _rows(mine.content.decode())
    orders = {o.pk: o for o in Order.objects.filter(channel="partner")}
    assert len(rows) == len(orders) == 3
    by_no = {order_number(order_id=o.pk, created_at=o.created_at): o for o in orders.values()}
    for row in rows:
        order = by_no[row["order_no"]]
        assert int(row["amount"]) == order.payable
        assert int(row["refund"]) == order.refunded_amount
        assert row["status"] == order.status
        assert bool(row["paid_at"]) == (order.paid_at is not None)
    assert {r["partner_uid"] for r in rows} == {"a", "b", "c"}

    path = "/api/v1/partners/bank/reconciliation"
    headers = request_headers(
        "hmac",
        SECRET,
        partner="bank",
        method="GET",
        path=path,
        timestamp=int(time.time()),
        nonce=secrets.token_urlsafe(12),
    )
    theirs = Client().get(
        path, **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    )
    assert theirs.status_code == 200
    assert theirs.content == mine.content
    # a signature over another query does not fetch this one
    forged = Client().get(
        path + "?date_from=2026-01-01",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    )
    assert forged.status_code == 401
    assert Api().get(path).status_code == 401
