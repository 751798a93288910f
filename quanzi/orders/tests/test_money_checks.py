"""``quanzi ledger check`` sees money and stock in the wrong place: each invariant is
broken on purpose here and must name what is wrong."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.catalog.models import SKU
from quanzi.core.platform_settings import settings_update
from quanzi.ledger.accounts import account_id
from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.models import Refund
from quanzi.orders.services import orders_settle_due


def _problems(name: str) -> list[str]:
    problems, _ = run_checks()
    return [p for p in problems if p.startswith(f"[{name}]")]


def _ship(operator, order_id):
    operator.api.post(f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "T1"})


def _settle(customer, operator, order_id):
    _ship(operator, order_id)
    customer.api.post(f"/orders/{order_id}/confirm-receipt")
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1


def _unbook(entry: JournalEntry) -> None:
    Posting.objects.filter(entry=entry).delete()
    entry.delete()


def _repoint(posting: Posting, code: str) -> None:
    with transaction.atomic():
        account = account_id(code)
    Posting.objects.filter(pk=posting.pk).update(account_id=account)


@pytest.mark.ledger_dirty
def test_a_refunded_order_leaving_its_shipping_fee_behind_is_reported(
    customer, operator, make_product, buy
):
    settings_update(patch={"shipping": {"fee": 800, "free_above": 0}})
    order = buy(customer, make_product(price=1000).skus.get())
    _ship(operator, order["id"])
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "退货"}).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert _problems("customer funds per order") == []
    _unbook(JournalEntry.objects.get(kind="shipping_kept"))  # the fee left where it was
    assert _problems("customer funds per order") == [
        f"[customer funds per order] order {order['id']} is refunded but leaves 800 in"
        " customer_funds"
    ]


@pytest.mark.ledger_dirty
def test_an_open_order_holding_the_wrong_amount_is_reported(customer, sku, buy):
    order = buy(customer, sku)
    posting = Posting.objects.get(entry__kind="payment", account__code="customer_funds")
    Posting.objects.filter(pk=posting.pk).update(amount=posting.amount + 10)
    found = _problems("customer funds per order")
    assert found and f"order {order['id']} (to_ship) holds" in found[0]


@pytest.mark.ledger_dirty
@pytest.mark.parametrize("settled", [False, True])
def test_a_refund_taken_from_the_wrong_account_is_reported(
    customer, operator, make_product, buy, settled
):
    order = buy(customer, make_product(price=1000).skus.get())
    if settled:
        _settle(customer, operator, order["id"])
    made = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "x"}).json()
    assert made["status"] == "succeeded"
    name = "every refund takes its money from where its capture put it"
    assert _problems(name) == []
    right, wrong = (
        ("platform_revenue", "customer_funds")
        if settled
        else ("customer_funds", "platform_revenue")
    )
    _repoint(Posting.objects.get(entry__kind="refund", account__code=right), wrong)
    moved = dict(sorted({wrong: 1000, "gateway:sandbox": -1000}.items()))
    assert _problems(name) == [
        f"[{name}] refund {made['id']} of 1000: moves {moved},"
        f" expected {right} +1000 and gateway:sandbox -1000"
    ]


@pytest.mark.ledger_dirty
def test_a_refund_marked_on_the_wrong_side_of_settlement_is_reported(
    customer, operator, make_product, buy
):
    order = buy(customer, make_product(price=1000).skus.get())
    _settle(customer, operator, order["id"])
    made = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "x"}).json()
    Refund.objects.filter(pk=made["id"]).update(after_settlement=False)
    name = "every refund takes its money from where its capture put it"
    assert _problems(name) == [
        f"[{name}] refund {made['id']} of 1000: booked as if its order had not settled"
    ]


@pytest.mark.ledger_dirty
def test_a_supplier_paid_for_units_it_did_not_ship_is_reported(
    customer, operator, make_product, buy
):
    sku = make_product(price=1000, supply_price=600).skus.get()
    order = buy(customer, sku, qty=2)
    line = order["lines"][0]
    refund = customer.api.post(
        f"/orders/{order['id']}/refunds",
        {"lines": [{"line_id": line["id"], "qty": 1}], "reason": "少发一件"},
    ).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    _settle(customer, operator, order["id"])
    name = "settlements pay suppliers for the units kept"
    assert _problems(name) == []
    # Both units paid to the supplier, the platform's revenue short by as much.
    supplier = Posting.objects.get(entry__kind="settlement", account__code="supplier_payable:0")
    revenue = Posting.objects.get(entry__kind="settlement", account__code="platform_revenue")
    Posting.objects.filter(pk=supplier.pk).update(amount=-1200)
    Posting.objects.filter(pk=revenue.pk).update(amount=revenue.amount + 600)
    assert _problems(name) == [
        f"[{name}] order {order['id']}: settlement credits suppliers"
        " {'supplier_payable:0': -1200}, units kept say {'supplier_payable:0': -600}"
    ]


def test_restocking_through_the_catalog_keeps_stock_conserved(operator, make_product):
    product = make_product(stock=10)
    sku = product.skus.get()
    edited = operator.api.patch(
        f"/admin/products/{product.pk}",
        {
            "skus": [
                {
                    "id": sku.pk,
                    "name": sku.name,
                    "price": sku.price,
                    "supply_price": sku.supply_price,
                    "stock": 25,
                }
            ]
        },
    )
    assert edited.status_code == 200, edited.content
    assert SKU.objects.get(pk=sku.pk).stock_received == 25
    assert _problems("stock is conserved per SKU") == []


@pytest.mark.ledger_dirty
def test_units_appearing_or_vanishing_outside_the_books_are_reported(
    customer, operator, make_product, buy
):
    sku = make_product(stock=10).skus.get()
    buy(customer, sku, qty=2)  # sold
    buy(customer, sku, qty=1, pay=False)  # reserved
    assert _problems("stock is conserved per SKU") == []
    SKU.objects.filter(pk=sku.pk).update(stock=F("stock") + 1)  # a unit from nowhere
    assert _problems("stock is conserved per SKU") == [
        f"[stock is conserved per SKU] sku {sku.pk} received 10 units but shelf 8 + orders 3"
        " - returned 0 + channels 0 = 11"
    ]


@pytest.mark.ledger_dirty
def test_a_lottery_prize_unit_lost_is_reported(operator, make_product):
    sku = make_product(stock=10).skus.get()
    lottery = operator.api.post(
        "/admin/lotteries",
        {
            "title": "转盘",
            "cost_points": 0,
            "free_draws_per_day": 1,
            "prizes": [
                {"name": "电饭煲", "kind": "product", "weight": 1, "stock": 3, "sku_id": sku.pk}
            ],
        },
    )
    assert lottery.status_code == 201, lottery.content
    assert _problems("stock is conserved per SKU") == []
    from quanzi.rewards.models import LotteryPrize

    LotteryPrize.objects.update(stock=2)  # a prize unit gone without a winner
    assert len(_problems("stock is conserved per SKU")) == 1


@pytest.mark.ledger_dirty
def test_a_ledger_key_reused_for_another_movement_is_reported(customer, sku, buy):
    order = buy(customer, sku)
    with transaction.atomic():
        entry_post(
            key=f"settle:{order['id'] + 1}",
            kind="settlement",
            legs=[Leg("customer_funds", 1), Leg("platform_revenue", -1)],
            order_id=order["id"],
        )
    found = _problems("ledger keys name their entry")
    assert len(found) == 1 and f"settle:{order['id'] + 1}" in found[0]
