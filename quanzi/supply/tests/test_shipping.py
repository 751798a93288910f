"""A supplier ships its own lines; the order ships when all its lines are in parcels;
another supplier's lines look missing; tracking numbers are checked per carrier."""

from __future__ import annotations

import pytest

from quanzi.orders.models import Order
from quanzi.supply.models import Shipment

pytestmark = pytest.mark.django_db

SF = "SF1234567890123"


def test_supplier_sees_only_its_own_lines_to_ship(supplier, rival, customer, paid_order):
    order = paid_order(customer, [(supplier.sku, 2), (rival.sku, 1)])

    mine = supplier.api.get("/supplier/lines").json()
    theirs = rival.api.get("/supplier/lines").json()

    assert [(line["order_id"], line["title"], line["qty"]) for line in mine] == [
        (order.pk, "脐橙 5kg", 2)
    ]
    assert [line["title"] for line in theirs] == ["大米 10kg"]
    assert mine[0]["address"]["city"] == "杭州市"  # drop-shipping needs the address
    assert mine[0]["ship_by"] is not None and mine[0]["overdue"] is False


def test_order_ships_once_every_supplier_shipped_its_lines(supplier, rival, customer, paid_order):
    order = paid_order(customer, [(supplier.sku, 2), (rival.sku, 1)])
    line = order.lines.get(supplier_id=supplier.supplier.pk)
    other = order.lines.get(supplier_id=rival.supplier.pk)

    first = supplier.api.post(
        f"/supplier/lines/{line.pk}/ship", {"carrier": "SF", "tracking_no": SF}
    )
    assert first.status_code == 201, first.content
    assert first.json()["line_ids"] == [line.pk]
    order.refresh_from_db()
    assert order.status == "to_ship"  # the rival's line has not left yet
    assert supplier.api.get("/supplier/lines").json() == []

    second = rival.api.post(
        f"/supplier/orders/{order.pk}/ship", {"carrier": "zto", "tracking_no": "7312 3456 7890"}
    )
    assert second.status_code == 201, second.content
    assert (second.json()["carrier"], second.json()["tracking_no"]) == ("ZTO", "731234567890")
    assert second.json()["line_ids"] == [other.pk]
    order.refresh_from_db()
    assert order.status == "shipped"
    assert (order.carrier, order.tracking_no) == ("ZTO", "731234567890")
    assert Shipment.objects.filter(order=order).count() == 2


def test_another_suppliers_line_is_missing_and_other_roles_are_refused(
    supplier, rival, customer, operator, paid_order
):
    order = paid_order(customer, [(supplier.sku, 1)])
    line = order.lines.get()
    body = {"carrier": "SF", "tracking_no": SF}

    assert rival.api.post(f"/supplier/lines/{line.pk}/ship", body).status_code == 404
    assert rival.api.post(f"/supplier/orders/{order.pk}/ship", body).status_code == 404
    assert customer.api.post(f"/supplier/lines/{line.pk}/ship", body).status_code == 403
    assert operator.api.post(f"/supplier/lines/{line.pk}/ship", body).status_code == 403
    assert operator.api.get("/supplier/lines").status_code == 403
    order.refresh_from_db()
    assert order.status == "to_ship" and not Shipment.objects.exists()


def test_a_supplier_role_without_a_supplier_is_refused(make_user):
    lonely = make_user(roles=("supplier",))
    answer = lonely.api.get("/supplier/lines")
    assert answer.status_code == 403 and answer.json()["code"] == "no_supplier"


@pytest.mark.parametrize(
    "carrier,number,code",
    [
        ("SF", "1234567890123", "invalid_tracking_no"),
        ("YTO", "SF1234567890123", "invalid_tracking_no"),
        ("EMS", "EA123456789", "invalid_tracking_no"),
        ("UPS", "1Z999AA10123456784", "unknown_carrier"),
    ],
)
def test_tracking_numbers_must_match_the_carrier(
    supplier, customer, paid_order, carrier, number, code
):
    order = paid_order(customer, [(supplier.sku, 1)])
    line = order.lines.get()
    answer = supplier.api.post(
        f"/supplier/lines/{line.pk}/ship", {"carrier": carrier, "tracking_no": number}
    )
    assert answer.status_code == 422 and answer.json()["code"] == code
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    "carrier,number",
    [
        ("SF", "SF1234567890123"),
        ("ZTO", "731234567890"),
        ("YTO", "YT1234567890123"),
        ("STO", "7712345678901"),
        ("YD", "4312345678901"),
        ("JD", "JDVA12345678901"),
        ("EMS", "EA123456789CN"),
        ("EMS", "1123456789012"),
    ],
)
def test_each_carrier_takes_its_own_numbers(carrier, number):
    from quanzi.supply.carriers import tracking_check

    assert tracking_check(carrier=carrier.lower(), tracking_no=f" {number.lower()} ") == (
        carrier,
        number,
    )


def test_a_line_ships_once_and_a_refunded_line_not_at_all(supplier, customer, operator, paid_order):
    from quanzi.orders.refunds import refund_approve, refund_request

    order = paid_order(customer, [(supplier.sku, 1)])
    line = order.lines.get()
    body = {"carrier": "SF", "tracking_no": SF}
    assert supplier.api.post(f"/supplier/lines/{line.pk}/ship", body).status_code == 201
    again = supplier.api.post(f"/supplier/lines/{line.pk}/ship", body)
    assert again.status_code == 409 and again.json()["code"] == "not_shippable"

    refunded = paid_order(customer, [(supplier.sku, 1)])
    refund = refund_request(order_id=refunded.pk, user=customer, lines=None, reason="不要了")
    refund_approve(refund_id=refund.pk, operator=operator)
    gone = supplier.api.post(f"/supplier/lines/{refunded.lines.get().pk}/ship", body)
    assert gone.status_code == 409
    assert Order.objects.get(pk=refunded.pk).status == "refunded"


def test_operator_shipping_whole_order_makes_a_parcel(supplier, customer, operator, paid_order):
    order = paid_order(customer, [(supplier.sku, 1)])
    answer = operator.api.post(
        f"/admin/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": SF}
    )
    assert answer.status_code == 200, answer.content
    parcel = Shipment.objects.get(order=order)
    assert (parcel.carrier, parcel.tracking_no, parcel.supplier_id) == ("SF", SF, None)
    assert supplier.api.get("/supplier/lines").json() == []
    tracking = customer.api.get(f"/orders/{order.pk}").json()["tracking"]
    assert tracking["status"] == "created"
    assert tracking["shipments"][0]["tracking_no"] == SF


def test_late_shipment_counts_in_quality(supplier, customer, paid_order, settings):
    from datetime import timedelta

    order = paid_order(customer, [(supplier.sku, 1)])
    Order.objects.filter(pk=order.pk).update(paid_at=order.paid_at - timedelta(hours=49))
    lines = supplier.api.get("/supplier/lines").json()
    assert lines[0]["overdue"] is True
    assert supplier.api.get("/supplier/quality").json()["overdue_lines"] == 1

    shipped = supplier.api.post(
        f"/supplier/lines/{lines[0]['line_id']}/ship", {"carrier": "SF", "tracking_no": SF}
    )
    assert shipped.json()["late"] is True
    quality = supplier.api.get("/supplier/quality").json()
    assert (quality["shipments"], quality["late_shipments"], quality["overdue_lines"]) == (1, 1, 0)
    assert quality["late_rate_bp"] == 10_000
