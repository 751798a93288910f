"""Words for the supply app's codes and errors (Chinese through the catalogue)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_texts() -> None:
    from quanzi.core.labels import LABELS
    from quanzi.storefront.web import ERROR_TEXT, FIELD_ERROR_TEXT

    LABELS["shipment_status"] = {
        "created": _("Handed to the carrier"),
        "accepted": _("Picked up by the carrier"),
        "in_transit": _("In transit"),
        "delivering": _("Out for delivery"),
        "delivered": _("Signed for"),
        "problem": _("Delivery problem"),
        "returned": _("Returned"),
        "partial": _("Partly delivered"),
    }
    ERROR_TEXT.update(
        {
            "unknown_carrier": _("Choose a carrier from the list."),
            "invalid_tracking_no": _("This tracking number does not match the carrier."),
            "not_shippable": _("This order cannot be shipped now."),
            "already_shipped": _("This line has already shipped."),
            "line_refunded": _("This line was refunded; there is nothing to ship."),
            "line_not_found": _("No such order line."),
            "tracking_no_taken": _("This tracking number belongs to another supplier."),
            "no_supplier": _("This account is not linked to a supplier."),
            "payout_exceeds_payable": _("The payout is more than the supplier is owed."),
            "payout_reference_reused": _("This reference names another payout."),
            "invalid_reference": _("The reference is 1-64 letters, digits or _.:-"),
            "purchase_order_not_found": _("No such purchase order."),
            "invalid_period": _("The period ends before it starts."),
        }
    )
    FIELD_ERROR_TEXT.setdefault("invalid_amount:amount", _("Enter an amount above zero."))
