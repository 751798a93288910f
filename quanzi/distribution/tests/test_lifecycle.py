"""frozen → available → withdrawn, and refunds at every stage (never losing a fen)."""

from __future__ import annotations

from quanzi.distribution.models import Commission, CommissionReversal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import complete, refund, settle
from quanzi.distribution.withdrawals import withdrawal_request
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.ledger.services import balance
from quanzi.orders.models import OrderLine


def _statuses(order):
    return sorted(Commission.objects.filter(order=order).values_list("level", "status"))


def test_settlement_makes_commissions_available_and_splits_the_order_exactly(
    people, pay, make_product
):
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1990, supply_price=1000).skus.get()
    order = pay(buyer, [(sku, 3)])
    assert _statuses(order) == [(1, "frozen"), (2, "frozen")]
    assert earnings_of(user=mid)["available"] == 0

    settle(order)

    assert _statuses(order) == [(1, "available"), (2, "available")]
    assert earnings_of(user=mid) == {
        "frozen": 0,
        "available": 597,
        "withdrawn": 0,
        "pending_withdrawal": 0,
    }
    assert earnings_of(user=top)["available"] == 298
    entry = JournalEntry.objects.get(key=f"settle:{order.pk}")
    legs = dict(Posting.objects.filter(entry=entry).values_list("account__code", "amount"))
    assert legs["customer_funds"] == 5970
    assert legs["supplier_payable:0"] == -3000
    assert legs[f"user:{mid.pk}:commission_available"] == -597
    assert legs[f"user:{top.pk}:commission_available"] == -298
    assert legs["platform_revenue"] == -(5970 - 3000 - 597 - 298)
    assert sum(legs.values()) == 0


def test_partial_refunds_before_settlement_reverse_in_proportion_at_both_levels(
    people, pay, make_product, operator
):
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    order = pay(buyer, [(sku, 3)])  # level 1: 300, level 2: 150
    line = OrderLine.objects.get(order=order)

    refund(order, operator, [(line.pk, 1)])
    assert earnings_of(user=mid)["frozen"] == 200
    assert earnings_of(user=top)["frozen"] == 100

    refund(order, operator, [(line.pk, 1)])
    assert earnings_of(user=mid)["frozen"] == 100
    assert earnings_of(user=top)["frozen"] == 50

    refund(order, operator, [(line.pk, 1)])  # the last unit: everything is reversed
    assert _statuses(order) == [(1, "reversed"), (2, "reversed")]
    assert earnings_of(user=mid)["frozen"] == earnings_of(user=top)["frozen"] == 0
    assert (
        sum(
            CommissionReversal.objects.filter(commission__order=order).values_list(
                "amount", flat=True
            )
        )
        == 450
    )


def test_reversal_never_exceeds_what_was_earned_with_uneven_shares(
    people, pay, make_product, operator
):
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=333, supply_price=100).skus.get()
    order = pay(buyer, [(sku, 7)])  # line paid 2331: level 1 earns 233
    line = OrderLine.objects.get(order=order)
    earned = Commission.objects.get(order=order, level=1).amount

    for _ in range(7):
        refund(order, operator, [(line.pk, 1)])
        commission = Commission.objects.get(order=order, level=1)
        assert 0 <= commission.reversed_amount <= earned

    assert Commission.objects.get(order=order, level=1).reversed_amount == earned


def test_refund_after_settlement_claws_back_and_is_booked(people, pay, make_product, operator):
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    order = settle(pay(buyer, [(sku, 2)]))  # level 1: 200, level 2: 100
    line = OrderLine.objects.get(order=order)
    assert earnings_of(user=mid)["available"] == 200

    done = refund(order, operator, [(line.pk, 1)])

    assert earnings_of(user=mid)["available"] == 100
    assert earnings_of(user=top)["available"] == 50
    clawback = JournalEntry.objects.get(key=f"clawback:{done.pk}")
    legs = dict(Posting.objects.filter(entry=clawback).values_list("account__code", "amount"))
    assert legs == {
        f"user:{mid.pk}:commission_available": 100,
        f"user:{top.pk}:commission_available": 50,
        "platform_revenue": -150,
    }


def test_refund_after_withdrawal_leaves_a_debt_paid_by_later_earnings(
    people, pay, make_product, operator, dist_settings
):
    dist_settings(withdraw_min=100, withdraw_fee_bp=0)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    order = settle(pay(buyer, [(sku, 3)]))  # mid earns 300
    withdrawal = withdrawal_request(user=mid, amount=300)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert _statuses(order)[0] == (1, "withdrawn")

    refund(order, operator)  # everything, after the money left

    assert earnings_of(user=mid)["available"] == -300  # the debt is shown, not dropped
    assert earnings_of(user=mid)["withdrawn"] == 300
    assert Commission.objects.get(order=order, level=1).status == "reversed"

    later = settle(pay(buyer, [(sku, 5)]))  # mid earns 500 more
    assert earnings_of(user=mid)["available"] == 200
    assert Commission.objects.get(order=later, level=1).status == "available"


def test_no_withdrawal_while_in_debt(people, pay, make_product, operator):
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=10_000, supply_price=4_000).skus.get()
    order = settle(pay(buyer, [(sku, 1)]))  # mid earns 1000
    withdrawal_request(user=mid, amount=1000)
    refund(order, operator)
    settle(pay(buyer, [(sku, 1)]))  # 1000 more: the balance is back at 0

    response = mid.api.post("/me/withdrawals", {"amount": 100})

    assert response.status_code == 409 and response.json()["code"] == "insufficient_balance"
    assert earnings_of(user=mid)["available"] == 0


def test_refund_of_a_completed_order_before_its_window_ends_only_unfreezes(
    people, pay, make_product
):
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    order = complete(pay(buyer, [(sku, 2)]))
    line = OrderLine.objects.get(order=order)

    response = buyer.api.post(
        f"/orders/{order.pk}/refunds", {"lines": [{"line_id": line.pk, "qty": 1}], "reason": "坏了"}
    )
    assert response.status_code == 201
    from quanzi.orders.refunds import refund_approve

    refund_approve(refund_id=response.json()["id"], operator=None)

    assert earnings_of(user=mid)["frozen"] == 100
    assert not JournalEntry.objects.filter(kind="commission_clawback").exists()
    settle(order)
    assert earnings_of(user=mid)["available"] == 100
    assert balance(f"user:{mid.pk}:commission_available") == -100
