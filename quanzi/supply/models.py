"""Suppliers' shipments with their tracking events, community purchase-order deliveries
and supplier payouts. Order lines, products and suppliers stay in the trunk's apps."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ShipmentStatus(models.TextChoices):
    CREATED = "created"  # handed over, no carrier event yet
    ACCEPTED = "accepted"  # 揽收
    IN_TRANSIT = "in_transit"  # 在途
    DELIVERING = "delivering"  # 派件
    DELIVERED = "delivered"  # 签收
    PROBLEM = "problem"  # 疑难
    RETURNED = "returned"  # 退签 / 退回 / 拒签


class Shipment(models.Model):
    """One parcel: a carrier's tracking number carrying (some) lines of one order."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    # The supplier who shipped it; null when the operator shipped the order itself.
    supplier = models.ForeignKey(
        "catalog.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carrier = models.CharField(max_length=20)
    tracking_no = models.CharField(max_length=40)
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.CREATED
    )
    status_at = models.DateTimeField(null=True, blank=True)  # time of the latest event
    ship_by = models.DateTimeField(null=True, blank=True)  # deadline when it was shipped
    late = models.BooleanField(default=False)
    shipped_by_id = models.BigIntegerField(null=True, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    subscribe_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["carrier", "tracking_no"]),
            models.Index(fields=["supplier", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "carrier", "tracking_no"], name="shipment_once_per_order"
            )
        ]


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    # One line ships in one parcel: the database refuses a second shipment of it.
    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()


class TrackingEvent(models.Model):
    """What the carrier said about a parcel at a time; a push repeated is one event."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices)
    location = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "time", "status"], name="tracking_event_once"
            )
        ]


class PurchaseOrderDelivery(models.Model):
    """A supplier's confirmation that a community wave's purchase order was delivered."""

    purchase_order_id = models.BigIntegerField(unique=True)
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    confirmed_by_id = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    confirmed_at = models.DateTimeField(auto_now_add=True)


class SupplierPayout(models.Model):
    """Money the operator paid a supplier (a bank transfer), booked against its payable."""

    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=64)
    note = models.CharField(max_length=200, blank=True)
    created_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "reference"], name="supplier_payout_reference_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="supplier_payout_positive"),
        ]

    @property
    def entry_key(self) -> str:
        return f"supplier_payout:{self.pk}"
