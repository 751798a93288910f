"""Orders that paid nothing (or next to nothing) are refunded without money moving."""

from quanzi.core.platform_settings import settings_update
from quanzi.ledger.models import JournalEntry
from quanzi.orders.models import Refund
from quanzi.payments.models import SandboxRecord


def test_a_free_order_is_refunded_without_a_gateway_or_an_entry(
    customer, make_product, give_points, place, refund_all
):
    give_points(customer, 10_000)
    settings_update(patch={"points": {"max_deduct_share_bp": 10_000, "allow_free_orders": True}})
    sku = make_product(price=1000, supply_price=500).skus.get()
    order = place(customer, [(sku, 1)], points=1000).json()
    assert order["payable"] == 0 and order["status"] == "to_ship"
    after = refund_all(customer, order["id"])
    assert after["status"] == "refunded"
    assert Refund.objects.get().amount == 0
    assert not SandboxRecord.objects.filter(kind="refund").exists()
    assert not JournalEntry.objects.filter(kind="refund").exists()


def test_a_partial_refund_rounding_to_nothing_completes(
    customer, make_product, give_points, place, pay, refund_all
):
    give_points(customer, 10_000)
    settings_update(patch={"points": {"max_deduct_share_bp": 10_000}})
    sku = make_product(price=1000, supply_price=500).skus.get()
    placed = place(customer, [(sku, 3)], points=2999).json()
    assert placed["payable"] == 1  # one fen left for three units
    order = pay(customer, placed["id"])
    line = order["lines"][0]
    after = refund_all(customer, order["id"], lines=[{"line_id": line["id"], "qty": 1}])
    assert after["status"] == "to_ship" and after["lines"][0]["refunded_qty"] == 1
    assert Refund.objects.get().amount == 0  # 1 fen × 1/3, rounded down
    assert not JournalEntry.objects.filter(kind="refund").exists()
    rest = refund_all(customer, order["id"])  # the last units take the fen
    assert rest["status"] == "refunded" and rest["refunded_amount"] == 1
