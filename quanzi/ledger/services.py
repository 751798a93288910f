"""Posting journal entries: balanced, idempotent, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.core.errors import Conflict
from quanzi.core.logging import get_logger
from quanzi.core.sql import insert_once
from quanzi.ledger.accounts import account_id
from quanzi.ledger.models import CNY, Account, JournalEntry, Posting

log = get_logger("quanzi.ledger")


@dataclass(frozen=True)
class Leg:
    """One posting to be written: an account code and a signed amount (debit +)."""

    account: str
    amount: int
    unit: str = CNY
    user_id: int | None = None
    no_overdraw: bool = False


class Unbalanced(ValueError):
    pass


class Overdrawn(Conflict):
    code = "insufficient_balance"


def entry_post(
    *,
    key: str,
    kind: str,
    legs: Sequence[Leg],
    order_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    memo: str = "",
) -> JournalEntry:
    """Write one balanced entry. The same ``key`` twice returns the first entry, unchanged.

    Must run inside the transaction of the business change that causes it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger entries are written inside the business transaction")
    sums: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise Unbalanced(f"amounts are integers, got {leg.amount!r}")
        sums[leg.unit] += leg.amount
    if any(total != 0 for total in sums.values()):
        raise Unbalanced(f"entry {key} does not balance: {dict(sums)}")
    legs = [leg for leg in legs if leg.amount != 0]
    entry = JournalEntry(
        key=key,
        kind=kind,
        order_id=order_id,
        payment_id=payment_id,
        refund_id=refund_id,
        memo=memo[:200],
        created_at=timezone.now(),
    )
    # One statement, no read first and no savepoint; a concurrent writer of the same key
    # is waited for by the database.
    if not insert_once(entry, unique="key"):  # the key was taken: that entry stands
        return JournalEntry.objects.get(key=key)
    postings = []
    for leg in legs:
        acc_id = account_id(
            leg.account, unit=leg.unit, user_id=leg.user_id, no_overdraw=leg.no_overdraw
        )
        postings.append(Posting(entry=entry, account_id=acc_id, unit=leg.unit, amount=leg.amount))
        if leg.user_id is not None:
            updated = Account.objects.filter(pk=acc_id)
            if leg.no_overdraw and leg.amount > 0:
                # A debit to a credit-balance account reduces what it holds: refuse to
                # take it below zero (balance is debits - credits, so <= 0 is fine).
                updated = updated.filter(balance__lte=-leg.amount)
            if updated.update(balance=F("balance") + leg.amount) != 1:
                raise Overdrawn(
                    "insufficient_balance", "not enough balance", {"account": leg.account}
                )
    Posting.objects.bulk_create(postings)
    log.info(
        "ledger entry",
        extra={
            "key": key,
            "kind": kind,
            "order_id": order_id,
            "payment_id": payment_id,
            "refund_id": refund_id,
            "legs": [(leg.account, leg.amount, leg.unit) for leg in legs],
        },
    )
    return entry


def balance(code: str) -> int:
    """Debits minus credits of an account, from its postings."""
    from django.db.models import Sum

    total = Posting.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)
