"""A won product refunded: a zero refund that completes, and the unit that comes back."""

from __future__ import annotations

from quanzi.catalog.models import SKU
from quanzi.ledger.models import JournalEntry
from quanzi.orders.models import Order, Refund
from quanzi.payments.models import SandboxRecord
from quanzi.rewards.models import LotteryPrize


def _prize(sku, stock: int) -> dict:
    return {"name": "电饭煲", "kind": "product", "weight": 1, "stock": stock, "sku_id": sku.pk}


def _win_and_claim(user, lottery, make_address) -> dict:
    draw = user.api.post(f"/lotteries/{lottery['id']}/draw").json()
    assert draw["status"] == "unclaimed", draw
    claimed = user.api.post(
        f"/lottery-draws/{draw['draw_id']}/claim", {"address_id": make_address(user).pk}
    )
    assert claimed.status_code == 201, claimed.content
    return user.api.get(f"/orders/{claimed.json()['order_id']}").json()


def _refund(user, operator, order_id: int) -> dict:
    asked = user.api.post(f"/orders/{order_id}/refunds", {"reason": "不想要了"})
    assert asked.status_code == 201, asked.content
    assert asked.json()["amount"] == 0
    approved = operator.api.post(f"/admin/refunds/{asked.json()['id']}/approve")
    assert approved.status_code == 200, approved.content
    return approved.json()


def test_a_refunded_prize_completes_at_once_and_goes_back_into_the_pool(
    customer, operator, make_user, make_address, make_lottery, make_product
):
    sku = make_product(stock=10).skus.get()
    lottery = make_lottery(prizes=[_prize(sku, stock=1)])
    order = _win_and_claim(customer, lottery, make_address)
    assert LotteryPrize.objects.get().stock == 0

    refund = _refund(customer, operator, order["id"])

    assert refund["status"] == "succeeded"
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert not SandboxRecord.objects.filter(kind="refund").exists()  # no gateway call
    assert not JournalEntry.objects.filter(refund_id=refund["id"]).exists()  # nothing to book
    prize = LotteryPrize.objects.get()
    assert (prize.stock, prize.given) == (1, 0)
    # Someone else can win the unit now.
    assert _win_and_claim(make_user(), lottery, make_address)["status"] == "to_ship"
    assert SKU.objects.get(pk=sku.pk).stock == 9


def test_a_prize_refunded_after_its_lottery_closed_goes_back_on_the_shelf(
    customer, operator, make_address, make_lottery, make_product
):
    sku = make_product(stock=10).skus.get()
    lottery = make_lottery(prizes=[_prize(sku, stock=2)])
    order = _win_and_claim(customer, lottery, make_address)
    operator.api.post(f"/admin/lotteries/{lottery['id']}/close")
    assert SKU.objects.get(pk=sku.pk).stock == 9  # the unawarded unit

    _refund(customer, operator, order["id"])

    assert SKU.objects.get(pk=sku.pk).stock == 10
    prize = LotteryPrize.objects.get()
    assert (prize.stock, prize.given) == (0, 0)


def test_a_prize_refunded_after_shipping_does_not_come_back(
    customer, operator, make_address, make_lottery, make_product
):
    sku = make_product(stock=10).skus.get()
    lottery = make_lottery(prizes=[_prize(sku, stock=1)])
    order = _win_and_claim(customer, lottery, make_address)
    operator.api.post(f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "L2"})

    _refund(customer, operator, order["id"])

    assert Refund.objects.get().status == "succeeded"
    prize = LotteryPrize.objects.get()
    assert (prize.stock, prize.given) == (0, 1)
    assert SKU.objects.get(pk=sku.pk).stock == 9
