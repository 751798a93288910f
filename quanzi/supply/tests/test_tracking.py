"""Tracking through the 快递100 stand-in: subscription after shipping, pushes in order
and out of order (the parcel's status is its latest event by time), duplicate pushes,
bad signatures, polling, and the order marked delivered by the 签收 event."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.orders.models import Order
from quanzi.supply.models import Shipment, TrackingEvent
from quanzi.supply.services.tracking import shipment_poll, shipments_track_due
from quanzi.supply.tests.conftest import NOTIFY
from quanzi.supply.tests.standin import CUSTOMER, KEY, SALT

pytestmark = pytest.mark.django_db

SF = "SF1234567890123"


@pytest.fixture
def shipped(supplier, customer, paid_order, kuaidi100):
    order = paid_order(customer, [(supplier.sku, 1)])
    answer = supplier.api.post(
        f"/supplier/lines/{order.lines.get().pk}/ship", {"carrier": "SF", "tracking_no": SF}
    )
    assert answer.status_code == 201, answer.content
    order.refresh_from_db()
    return order


def push(body: str):
    return Client().post(NOTIFY, data=body, content_type="application/x-www-form-urlencoded")


SCANS = [
    ("2026-12-04 09:00:00", "1", "【杭州市】顺丰速运 已收取快件", "浙江,杭州市"),
    ("2026-12-04 20:00:00", "0", "快件已发车", "浙江,杭州市"),
    ("2026-12-05 08:30:00", "5", "快件交给王师傅，正在派送途中", "上海,上海市"),
    ("2026-12-05 11:00:00", "3", "快件已签收，签收人：本人", "上海,上海市"),
]


def rows(scans):
    return [
        {"time": t, "ftime": t, "statusCode": code, "context": text, "areaName": area}
        for t, code, text, area in scans
    ]


def test_shipping_subscribes_the_parcel_with_our_callback(shipped, kuaidi100):
    (sub,) = kuaidi100.subscriptions
    assert (sub["company"], sub["number"], sub["key"]) == ("shunfeng", SF, KEY)
    assert sub["parameters"]["callbackurl"].endswith(NOTIFY)
    assert sub["parameters"]["salt"] == SALT
    assert Shipment.objects.get(order=shipped).subscribed_at is not None


def test_pushes_in_order_end_delivered_and_mark_the_order_delivered(shipped, kuaidi100, customer):
    for n in range(1, len(SCANS) + 1):
        answer = push(kuaidi100.push_body("shunfeng", SF, rows(SCANS[:n])))
        assert answer.status_code == 200
        assert answer.json()["returnCode"] == "200"
        parcel = Shipment.objects.get(order=shipped)
        assert parcel.status == ["accepted", "in_transit", "delivering", "delivered"][n - 1]
    shipped.refresh_from_db()
    assert shipped.status == "delivered" and shipped.delivered_at is not None
    tracking = customer.api.get(f"/orders/{shipped.pk}").json()["tracking"]
    assert tracking["status"] == "delivered"
    events = tracking["shipments"][0]["events"]
    assert [e["status"] for e in events] == ["delivered", "delivering", "in_transit", "accepted"]
    assert events[0]["text"] == "快件已签收，签收人：本人"
    # Delivered orders may be confirmed by the customer (the state machine allows it).
    assert (
        customer.api.post(f"/orders/{shipped.pk}/confirm-receipt").json()["status"] == "completed"
    )


def test_pushes_out_of_order_keep_the_latest_event_by_time(shipped, kuaidi100):
    # The 签收 push arrives first, then an older one carrying only the early scans.
    assert push(kuaidi100.push_body("shunfeng", SF, rows([SCANS[3]]))).status_code == 200
    assert Shipment.objects.get(order=shipped).status == "delivered"
    assert push(kuaidi100.push_body("shunfeng", SF, rows(SCANS[:2]))).status_code == 200
    parcel = Shipment.objects.get(order=shipped)
    assert parcel.status == "delivered"
    assert parcel.events.count() == 3
    assert Order.objects.get(pk=shipped.pk).status == "delivered"


def test_a_push_repeated_adds_nothing(shipped, kuaidi100):
    body = kuaidi100.push_body("shunfeng", SF, rows(SCANS[:3]))
    for _ in range(3):
        assert push(body).status_code == 200
    assert TrackingEvent.objects.count() == 3
    assert Shipment.objects.get(order=shipped).status == "delivering"
    assert Order.objects.get(pk=shipped.pk).status == "shipped"


@pytest.mark.parametrize("forge", ["wrong salt", "tampered", "unsigned"])
def test_a_push_that_does_not_verify_is_refused(shipped, kuaidi100, forge):
    if forge == "wrong salt":
        body = kuaidi100.push_body("shunfeng", SF, rows(SCANS), salt="guessed")
    elif forge == "tampered":
        body = kuaidi100.push_body("shunfeng", SF, rows(SCANS[:1])).replace(
            "2026-12-04", "2026-12-09"
        )
    else:
        body = (
            "param="
            + kuaidi100.push_body("shunfeng", SF, rows(SCANS)).split("param=")[1].split("&sign=")[0]
        )
    answer = push(body)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_push"
    assert not TrackingEvent.objects.exists()
    assert Order.objects.get(pk=shipped.pk).status == "shipped"


def test_an_unknown_provider_is_not_found(shipped):
    answer = Client().post(
        "/api/v1/logistics/notify/other", data="", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 404


def test_a_poll_queries_with_a_signed_request(shipped, kuaidi100):
    for when, code, text, area in SCANS[:2]:
        kuaidi100.scan("shunfeng", SF, when, code, text, area)
    parcel = Shipment.objects.get(order=shipped)
    assert shipment_poll(shipment_id=parcel.pk) == 2
    assert shipment_poll(shipment_id=parcel.pk) == 0  # the same scans again: nothing new
    parcel.refresh_from_db()
    assert parcel.status == "in_transit"
    (query, *_) = [r for r in kuaidi100.requests if r["path"] == "/poll/query.do"]
    assert query["form"]["customer"] == CUSTOMER


def test_the_sweep_subscribes_what_failed_and_polls_quiet_parcels(
    supplier, customer, paid_order, kuaidi100
):
    from datetime import timedelta

    from django.utils import timezone

    kuaidi100.key = "rotated"  # the service refuses our subscriptions for now
    order = paid_order(customer, [(supplier.sku, 1)])
    supplier.api.post(f"/supplier/orders/{order.pk}/ship", {"carrier": "SF", "tracking_no": SF})
    parcel = Shipment.objects.get(order=order)
    assert parcel.subscribed_at is None and "refused" in parcel.subscribe_error

    kuaidi100.key = KEY
    kuaidi100.scan("shunfeng", SF, *SCANS[3])
    shipments_track_due(now=timezone.now() + timedelta(hours=7))
    parcel.refresh_from_db()
    assert parcel.subscribed_at is not None and parcel.status == "delivered"
    assert Order.objects.get(pk=order.pk).status == "delivered"
