"""Refunds the gateway will never complete, paid back by the operator outside it.

A refund can get stuck: WeChat Pay answers ``ABNORMAL`` when the buyer's card was
closed, and retrying the same refund number never succeeds. The operator pays the
customer some other way (a bank transfer, cash at a pickup point) and completes the
refund here with the proof; it is booked through ``refunds_offline`` (docs/ledger.md)
and the order moves on as after any paid refund.
"""

from __future__ import annotations

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid
from quanzi.core.logging import get_logger
from quanzi.orders.models import Refund
from quanzi.orders.refunds import OfflineProof, refund_book

log = get_logger("quanzi.refunds")


def refund_complete_offline(
    *, refund_id: int, operator: User, reference: str, evidence: str
) -> Refund:
    """Complete an approved refund as paid offline. Idempotent: completing it again
    returns it unchanged; a refund the gateway already paid is a conflict."""
    reference, evidence = (reference or "").strip(), (evidence or "").strip()
    if not reference or len(reference) > 80:
        raise Invalid(
            "invalid_offline_proof",
            "give the reference of the offline payment (at most 80 characters)",
            {"field": "reference"},
        )
    if not evidence or len(evidence) > 500:
        raise Invalid(
            "invalid_offline_proof",
            "describe how the money was paid back (at most 500 characters)",
            {"field": "evidence"},
        )
    refund = refund_book(
        refund_id=refund_id,
        offline=OfflineProof(reference=reference, evidence=evidence, operator_id=operator.pk),
    )
    log.warning(
        "refund completed offline",
        extra={"refund_id": refund.pk, "operator_id": operator.pk, "reference": reference},
    )
    return refund
