"""Payables = supply price × quantity − refunded units, read from the supplier's ledger
account; statements per period; payouts recorded once; each supplier sees its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from quanzi.ledger.services import balance
from quanzi.orders.refunds import refund_approve, refund_request
from quanzi.supply.tests.conftest import settle

pytestmark = pytest.mark.django_db

SF = "SF1234567890123"


def ship(supplier, order, tracking_no=SF):
    answer = supplier.api.post(
        f"/supplier/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": tracking_no}
    )
    assert answer.status_code == 201, answer.content


def test_payables_are_supply_cost_less_refunded_units(
    supplier, rival, customer, operator, paid_order, capsys
):
    # 3 oranges (supply 12.00) and 1 rice (supply 30.00); one orange refunded before
    # settlement.
    order = paid_order(customer, [(supplier.sku, 3), (rival.sku, 1)])
    line = order.lines.get(supplier_id=supplier.supplier.pk)
    refund = refund_request(
        order_id=order.pk, user=customer, lines=[{"line_id": line.pk, "qty": 1}], reason="坏果"
    )
    refund_approve(refund_id=refund.pk, operator=operator)
    ship(supplier, order)
    ship(rival, order, "SF9876543210987")
    settle(order)

    mine = supplier.api.get("/supplier/payables").json()
    assert mine["owed"] == 1200 * 2
    assert mine["items"] == [
        {
            "order_id": order.pk,
            "order_no": mine["items"][0]["order_no"],
            "settled_at": mine["items"][0]["settled_at"],
            "units": 3,
            "gross": 3600,
            "refunded": 1200,
            "payable": 2400,
        }
    ]
    assert -balance(f"supplier_payable:{supplier.supplier.pk}") == 2400
    theirs = rival.api.get("/supplier/payables").json()
    assert theirs["owed"] == 3000
    assert [i["payable"] for i in theirs["items"]] == [3000]

    from quanzi.ledger.checks import run_checks

    problems, _ = run_checks()
    assert problems == []


def test_statement_and_idempotent_payouts(supplier, rival, customer, operator, paid_order):
    first = paid_order(customer, [(supplier.sku, 2)])
    ship(supplier, first)
    settle(first)
    second = paid_order(customer, [(supplier.sku, 1)])
    ship(supplier, second)
    settle(second)
    sid = supplier.supplier.pk
    assert supplier.api.get("/supplier/me").json()["owed"] == 3600

    url = f"/admin/suppliers/{sid}/payouts"
    made = operator.api.post(url, {"amount": 2000, "reference": "BANK-0001", "note": "12月上"})
    assert made.status_code == 201, made.content
    again = operator.api.post(url, {"amount": 2000, "reference": "BANK-0001"})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    reused = operator.api.post(url, {"amount": 999, "reference": "BANK-0001"})
    assert reused.status_code == 409 and reused.json()["code"] == "payout_reference_reused"
    too_much = operator.api.post(url, {"amount": 1601, "reference": "BANK-0002"})
    assert too_much.status_code == 409 and too_much.json()["code"] == "payout_exceeds_payable"
    assert supplier.api.post(url, {"amount": 1, "reference": "X"}).status_code == 403

    today = timezone.localdate()
    period = f"?start={today.replace(day=1).isoformat()}&end={today.isoformat()}"
    statement = supplier.api.get("/supplier/statement" + period).json()
    assert statement["opening"] == 0
    assert (statement["orders"], statement["gross"], statement["refunds"]) == (2, 3600, 0)
    assert (statement["payables"], statement["payouts"], statement["closing"]) == (3600, 2000, 1600)
    assert [p["reference"] for p in statement["payout_list"]] == ["BANK-0001"]
    assert operator.api.get(f"/admin/suppliers/{sid}/statement" + period).json() == statement

    # Tomorrow's statement opens with what is still owed and has no movements.
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = supplier.api.get(f"/supplier/statement?start={tomorrow}&end={tomorrow}").json()
    assert (later["opening"], later["payables"], later["payouts"], later["closing"]) == (
        1600,
        0,
        0,
        1600,
    )
    bad = supplier.api.get(f"/supplier/statement?start={tomorrow}&end={today.isoformat()}")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"

    # The rival sees none of this money.
    assert rival.api.get("/supplier/payables").json() == {"owed": 0, "items": []}
    assert rival.api.get("/supplier/statement" + period).json()["payout_list"] == []
    assert balance("payouts") == -2000


def test_a_refund_after_settlement_leaves_the_payable_alone(
    supplier, customer, operator, paid_order
):
    order = paid_order(customer, [(supplier.sku, 2)])
    ship(supplier, order)
    settle(order)
    line = order.lines.get()
    refund = operator.api.post(
        f"/admin/orders/{order.pk}/refunds",
        {"lines": [{"line_id": line.pk, "qty": 1}], "reason": "售后补偿"},
    )
    assert refund.status_code == 201, refund.content
    # The platform bears a refund after settlement: the supplier keeps what it was owed.
    assert supplier.api.get("/supplier/payables").json()["owed"] == 2400


def test_operator_sees_every_suppliers_quality(supplier, rival, customer, operator, paid_order):
    order = paid_order(customer, [(supplier.sku, 4)])
    refund = refund_request(
        order_id=order.pk,
        user=customer,
        lines=[{"line_id": order.lines.get().pk, "qty": 1}],
        reason="坏果",
    )
    refund_approve(refund_id=refund.pk, operator=operator)
    paid_order(customer, [(supplier.sku, 1)])
    # A complaint about the rival's line of a shared order is the rival's alone.
    shared = paid_order(customer, [(supplier.sku, 1), (rival.sku, 1)])
    refund_request(
        order_id=shared.pk,
        user=customer,
        lines=[{"line_id": shared.lines.get(supplier_id=rival.supplier.pk).pk, "qty": 1}],
        reason="包装破损",
    )
    rows = {r["supplier_id"]: r for r in operator.api.get("/admin/suppliers/quality").json()}
    mine = rows[supplier.supplier.pk]
    assert (mine["units_sold"], mine["units_refunded"], mine["refund_rate_bp"]) == (6, 1, 1666)
    assert (mine["orders"], mine["orders_complained"], mine["complaint_rate_bp"]) == (3, 1, 3333)
    theirs = rows[rival.supplier.pk]
    assert (theirs["units_sold"], theirs["orders_complained"], theirs["complaint_rate_bp"]) == (
        1,
        1,
        10_000,
    )
    assert supplier.api.get("/admin/suppliers/quality").status_code == 403
