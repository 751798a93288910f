"""Payment reads shaped for the API."""

from __future__ import annotations

from quanzi.payments.models import Payment


def payment_out(payment: Payment) -> dict:
    """``{payment_id, gateway, amount, params}``: what a client needs to pay."""
    return {
        "payment_id": payment.pk,
        "gateway": payment.gateway,
        "amount": payment.amount,
        "params": payment.params,
    }
