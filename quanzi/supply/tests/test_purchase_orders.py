"""A supplier sees the community purchase orders of its products and confirms their
delivery; another supplier's purchase order looks missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase_order(supplier):
    from quanzi.community.models import PurchaseOrder, PurchaseOrderLine
    from quanzi.community.waves import wave_create

    wave = wave_create(
        title="明日达",
        sale_date=timezone.localdate(),
        cutoff_at=timezone.now() + timedelta(hours=6),
        pickup_date=timezone.localdate() + timedelta(days=1),
        items=[{"sku_id": supplier.sku.pk, "price": 2500, "stock": 10}],
    )
    # What the wave's aggregation writes after its cutoff: 6 units at the supply price.
    po = PurchaseOrder.objects.create(
        wave=wave,
        supplier_id=supplier.supplier.pk,
        supplier_key=supplier.supplier.pk,
        total_cost=7200,
    )
    PurchaseOrderLine.objects.create(
        purchase_order=po, sku=supplier.sku, title="脐橙 5kg", qty=6, supply_price=1200, cost=7200
    )
    return po


def test_supplier_confirms_delivery_of_its_purchase_order(supplier, rival, purchase_order):
    listed = supplier.api.get("/supplier/purchase-orders").json()
    assert [(p["id"], p["total_cost"], p["delivered_at"]) for p in listed] == [
        (purchase_order.pk, 7200, None)
    ]
    assert listed[0]["lines"][0]["qty"] == 6
    assert rival.api.get("/supplier/purchase-orders").json() == []

    url = f"/supplier/purchase-orders/{purchase_order.pk}/delivered"
    assert rival.api.post(url, {"note": "冒领"}).status_code == 404
    done = supplier.api.post(url, {"note": "已送达中心仓"})
    assert done.status_code == 200 and done.json()["delivered_at"] is not None
    again = supplier.api.post(url, {"note": "再点一次"})
    assert again.json()["delivered_at"] == done.json()["delivered_at"]
    assert again.json()["delivery_note"] == "已送达中心仓"
