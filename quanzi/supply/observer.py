"""The supply app follows every order: an order the operator shipped whole gets a parcel
for its lines not shipped yet, so that its tracking is followed like a supplier's."""

from __future__ import annotations

from quanzi.orders.channels import OrderObserver


class ShipmentFollower(OrderObserver):
    def on_shipped(self, order) -> None:
        from quanzi.supply.services.shipping import parcel_for_operator_shipment

        parcel_for_operator_shipment(order)
