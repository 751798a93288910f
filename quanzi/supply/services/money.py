"""A supplier's money: payables booked at settlement, statements per period, payouts.

The trunk books a supplier's cost when an order settles (its after-sales window has
ended): ``supplier_payable:<id>`` is credited with supply price × (quantity − units
refunded before settlement). A refund after settlement does not touch it: the platform
bears it (see docs/ledger.md). The payable account is the truth; this module reads it.

A payout is the operator's transfer to the supplier (a bank transfer made outside
Quanzi), recorded once per reference: ``supplier_payable:<id>`` debited, ``payouts``
credited, key ``supplier_payout:<payout id>``. It may not exceed what is owed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Sum

from quanzi.catalog.models import Supplier
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.ledger import accounts as chart
from quanzi.ledger.models import Posting
from quanzi.ledger.services import Leg, entry_post
from quanzi.orders.models import Order, OrderLine
from quanzi.orders.numbers import order_number
from quanzi.supply.models import SupplierPayout

log = get_logger("quanzi.supply")

PAYOUT_KIND = "supplier_payout"
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_PAYOUT = 10**12


def _postings(supplier_id: int):
    return Posting.objects.filter(account__code=chart.supplier_payable(supplier_id))


def owed(*, supplier_id: int) -> int:
    """What the platform owes the supplier now (the payable's credit balance)."""
    return -(_postings(supplier_id).aggregate(total=Sum("amount"))["total"] or 0)


def payables_by_order(*, supplier_id: int, limit: int = 200) -> list[dict]:
    """Each settled order's payable as booked, with the supply value it was booked from
    (gross = supply price × quantity; refunded = the units refunded before settlement)."""
    rows = list(
        _postings(supplier_id)
        .filter(entry__kind="settlement")
        .order_by("-entry_id")
        .values("entry__order_id", "entry__created_at", "amount")[:limit]
    )
    order_ids = [row["entry__order_id"] for row in rows]
    gross: dict[int, int] = defaultdict(int)
    units: dict[int, int] = defaultdict(int)
    for order_id, price, qty in OrderLine.objects.filter(
        order_id__in=order_ids, supplier_id=supplier_id
    ).values_list("order_id", "supply_price", "qty"):
        gross[order_id] += price * qty
        units[order_id] += qty
    placed = dict(Order.objects.filter(pk__in=order_ids).values_list("id", "created_at"))
    out = []
    for row in rows:
        order_id, payable = row["entry__order_id"], -row["amount"]
        out.append(
            {
                "order_id": order_id,
                "order_no": order_number(order_id=order_id, created_at=placed[order_id]),
                "settled_at": row["entry__created_at"],
                "units": units[order_id],
                "gross": gross[order_id],
                "refunded": gross[order_id] - payable,
                "payable": payable,
            }
        )
    return out


def statement(*, supplier_id: int, start: datetime, end: datetime) -> dict:
    """The supplier's account over ``[start, end)``: opening balance owed, payables
    booked (gross supply value less refunded units), payouts, other movements, closing
    balance. ``closing = opening + payables − payouts + other``."""
    if end <= start:
        raise Invalid("invalid_period", "the period ends before it starts", {"field": "end"})
    postings = _postings(supplier_id)
    opening = -(postings.filter(entry__created_at__lt=start).aggregate(t=Sum("amount"))["t"] or 0)
    period = postings.filter(entry__created_at__gte=start, entry__created_at__lt=end)
    settled = list(period.filter(entry__kind="settlement").values_list("entry__order_id", "amount"))
    payables = -sum(amount for _, amount in settled)
    gross = sum(
        price * qty
        for price, qty in OrderLine.objects.filter(
            order_id__in=[order_id for order_id, _ in settled], supplier_id=supplier_id
        ).values_list("supply_price", "qty")
    )
    payouts = period.filter(entry__kind=PAYOUT_KIND).aggregate(t=Sum("amount"))["t"] or 0
    total = -(period.aggregate(t=Sum("amount"))["t"] or 0)
    other = total - payables + payouts
    return {
        "supplier_id": supplier_id,
        "start": start,
        "end": end,
        "opening": opening,
        "orders": len(settled),
        "gross": gross,
        "refunds": gross - payables,
        "payables": payables,
        "payouts": payouts,
        "other": other,
        "closing": opening + total,
        "payout_list": [
            payout_out(p)
            for p in SupplierPayout.objects.filter(
                supplier_id=supplier_id, created_at__gte=start, created_at__lt=end
            ).order_by("id")
        ],
    }


def payout_out(payout: SupplierPayout) -> dict:
    return {
        "id": payout.pk,
        "supplier_id": payout.supplier_id,
        "amount": payout.amount,
        "reference": payout.reference,
        "note": payout.note,
        "created_at": payout.created_at,
    }


def payout_record(
    *, supplier_id: int, amount: int, reference: str, note: str = "", operator
) -> tuple[SupplierPayout, bool]:
    """Record a transfer the operator made to the supplier. Idempotent on the
    supplier's ``reference``: the same payout again returns the first (``False``); the
    reference with another amount is ``409 payout_reference_reused``."""
    reference = (reference or "").strip()
    if not REFERENCE_RE.match(reference):
        raise Invalid(
            "invalid_reference",
            "the reference is 1-64 letters, digits or _.:-",
            {"field": "reference"},
        )
    if not isinstance(amount, int) or not 0 < amount <= MAX_PAYOUT:
        raise Invalid("invalid_amount", "a payout is a positive amount in fen", {"field": "amount"})
    with transaction.atomic():
        # The supplier row serialises its payouts: the balance checked is the one paid.
        supplier = Supplier.objects.select_for_update().filter(pk=supplier_id).first()
        if supplier is None:
            raise NotFound("supplier_not_found", "no such supplier")
        existing = SupplierPayout.objects.filter(supplier=supplier, reference=reference).first()
        if existing is not None:
            if existing.amount != amount:
                raise Conflict(
                    "payout_reference_reused",
                    "this reference names another payout",
                    {"payout_id": existing.pk},
                )
            return existing, False
        balance = owed(supplier_id=supplier.pk)
        if amount > balance:
            raise Conflict(
                "payout_exceeds_payable",
                "the payout is more than the supplier is owed",
                {"owed": balance, "field": "amount"},
            )
        payout = SupplierPayout.objects.create(
            supplier=supplier,
            amount=amount,
            reference=reference,
            note=(note or "")[:200],
            created_by_id=operator.pk,
        )
        entry_post(
            key=payout.entry_key,
            kind=PAYOUT_KIND,
            legs=[
                Leg(chart.supplier_payable(supplier.pk), amount),
                Leg(chart.PAYOUTS, -amount),
            ],
            memo=f"supplier {supplier.pk} paid, reference {reference}"[:200],
        )
    log.info(
        "supplier payout recorded",
        extra={"supplier_id": supplier.pk, "payout_id": payout.pk, "amount": amount},
    )
    return payout, True


def order_ids_settled(*, supplier_id: int) -> list[int]:
    return list(
        Order.objects.filter(settled_at__isnull=False, lines__supplier_id=supplier_id)
        .distinct()
        .values_list("id", flat=True)
    )
