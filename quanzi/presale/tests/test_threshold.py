"""Threshold mode: paid orders wait until N units are paid; met → they ship; not met by
the deadline → every payment is refunded along its path, unpaid orders cancelled, units
and coupons come back."""

from __future__ import annotations

import pytest

from quanzi.catalog.models import SKU
from quanzi.marketing.models import Coupon
from quanzi.orders.models import Order, Refund
from quanzi.presale.models import Booking, Presale
from quanzi.presale.services import sales
from quanzi.presale.tests.conftest import ledger_green, move

pytestmark = pytest.mark.django_db


def _coupon_for(user, amount=500):
    from quanzi.marketing.services import coupon_grant, coupon_template_create

    template = coupon_template_create(
        data={
            "name": "预售立减",
            "kind": "amount_off",
            "amount": amount,
            "threshold": 0,
            "scope": "all",
            "valid_days": 30,
            "total": 100,
            "per_user_limit": 1,
        }
    )
    return coupon_grant(user=user, template_id=template.pk, source="test")


def test_threshold_met_the_orders_ship(make_user, operator, phone_sku, make_presale, shop):
    sale = make_presale("threshold", price=8800, threshold=3)
    buyers = [make_user(nickname=f"买家{i}") for i in range(2)]
    first = shop(buyers[0], sale["id"], "full", qty=1)
    assert first["order"]["status"] == "to_ship"
    refused = operator.api.post(
        f"/admin/orders/{first['order_id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "not_shippable"
    detail = operator.api.get(f"/admin/presale/sales/{sale['id']}").json()
    assert detail["paid_units"] == 1 and detail["threshold_met"] is False
    shop(buyers[1], sale["id"], "full", qty=2)
    detail = operator.api.get(f"/admin/presale/sales/{sale['id']}").json()
    assert detail["paid_units"] == 3 and detail["threshold_met"] is True
    shipped = operator.api.post(
        f"/admin/orders/{first['order_id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 200, shipped.content
    move(sale["id"], deadline=-1)
    assert sales.presales_decide_due() == 1
    assert Presale.objects.get(pk=sale["id"]).status == "succeeded"
    assert sales.bookings_unwind_due() == 0
    assert not Refund.objects.exists()
    assert SKU.objects.get(pk=phone_sku.pk).stock == 47
    ledger_green()


def test_threshold_not_met_refunds_everyone(make_user, phone_sku, make_presale, shop):
    sale = make_presale("threshold", price=8800, threshold=10)
    with_coupon = make_user(nickname="用券")
    coupon = _coupon_for(with_coupon)
    paid_a = shop(with_coupon, sale["id"], "full", qty=2, coupon_id=coupon.pk)
    assert paid_a["order"]["payable"] == 2 * 8800 - 500
    assert Coupon.objects.get(pk=coupon.pk).status == "used"
    plain = make_user(nickname="普通")
    paid_b = shop(plain, sale["id"], "full", qty=1)
    dawdler = make_user(nickname="未付")
    unpaid = shop(dawdler, sale["id"], "full", qty=1, pay=False)
    assert SKU.objects.get(pk=phone_sku.pk).stock == 46
    ledger_green()

    move(sale["id"], deadline=-1)
    assert sales.presales_decide_due() == 1
    assert Presale.objects.get(pk=sale["id"]).status == "failed"
    assert sales.bookings_unwind_due() == 3
    assert sales.bookings_unwind_due() == 0  # idempotent
    for placed, amount in ((paid_a, 2 * 8800 - 500), (paid_b, 8800)):
        refund = Refund.objects.get(order_id=placed["order_id"])
        assert refund.status == "succeeded" and refund.amount == amount
        assert refund.payment.gateway == "sandbox"
        assert Order.objects.get(pk=placed["order_id"]).status == "refunded"
    assert Order.objects.get(pk=unpaid["order_id"]).status == "cancelled"
    assert SKU.objects.get(pk=phone_sku.pk).stock == 50  # every unit back
    assert Coupon.objects.get(pk=coupon.pk).status == "unused"  # the coupon back
    assert set(Booking.objects.values_list("status", flat=True)) == {"refunded", "cancelled"}
    assert Presale.objects.get(pk=sale["id"]).paid_units == 0
    ledger_green()


def test_orders_after_the_deadline_are_refused(customer, make_presale, shop):
    sale = make_presale("threshold", threshold=2)
    move(sale["id"], deadline=-1)
    assert shop(customer, sale["id"], "full", expect=409)["code"] == "presale_ended"
